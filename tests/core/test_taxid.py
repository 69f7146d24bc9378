import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.core.taxid import USCC_ALPHABET, check_tax_id, make_uscc


@pytest.mark.parametrize("value", ["91110000600037341L", "91110108MA0123456G", "9111 0000 6000 3734 1l"])
def test_valid_codes(value):
    assert check_tax_id(value).ok


def test_authority_letters_are_accepted_although_stdnum_validate_rejects_them():
    from stdnum.cn import uscc
    from stdnum.exceptions import ValidationError

    code = make_uscc("A1110000600037341")
    with pytest.raises(ValidationError):
        uscc.validate(code)
    assert check_tax_id(code).ok
    assert check_tax_id(make_uscc("N2110000MA0123456")).ok
    assert check_tax_id(make_uscc("Y1110000MA0123456")).ok


def test_a_failed_check_character_is_overridable_and_says_what_it_expected():
    check = check_tax_id("91110000600037341A")
    assert not check.ok and check.check_char_failed
    assert "L" in check.message_zh


@pytest.mark.parametrize("value, fragment", [
    ("9111000060003734", "16"),  # no taxpayer id has 16 characters
    ("9111000060003734IL", "I"),
    ("91AB000060003734IL", "A"),
    ("123", "3位"),
])
def test_malformed_ids_are_hard_errors(value, fragment):
    check = check_tax_id(value)
    assert not check.ok and not check.check_char_failed
    assert fragment in check.message_zh or fragment in check.message_en


@pytest.mark.parametrize("value", ["110108123456789", "11010819800101123", "110108198001011234AB",
                                   "11010819800101123X01"])
def test_older_ids_accepted_by_form(value):
    assert check_tax_id(value).ok


@given(st.text(alphabet=USCC_ALPHABET, min_size=2, max_size=2), st.text(alphabet="0123456789", min_size=6, max_size=6),
       st.text(alphabet=USCC_ALPHABET, min_size=9, max_size=9))
def test_every_code_with_its_check_character_passes_and_any_other_fails(head, region, org):
    code = make_uscc(head + region + org)
    assert check_tax_id(code).ok
    for wrong in USCC_ALPHABET[:5]:
        if wrong != code[-1]:
            assert check_tax_id(code[:-1] + wrong).check_char_failed
