import pytest

from app.core.errors import ValidationFailed
from app.services.seller import get_seller, set_seller
from app.services.store_access import open_store
from app.store import migrations
from app.store.models import AuditEntry


def test_seller_profile_is_validated_and_audited(store):
    with pytest.raises(ValidationFailed) as caught:
        set_seller(name="", tax_id="91110108MA0123456X", drawer="")
    assert {e.field for e in caught.value.errors} == {"seller.name", "seller.tax_id", "drawer"}
    assert get_seller() is None
    set_seller(name="北京某某", tax_id="91110108ma0123456g", drawer="张三")
    created = get_seller()
    assert created is not None and created.party.tax_id == "91110108MA0123456G"
    set_seller(name="北京某某二", tax_id="91110108MA0123456G", drawer="李四")
    updated = get_seller()
    assert updated is not None and updated.drawer == "李四"
    assert [e.action for e in AuditEntry.select().order_by(AuditEntry.id)] == [
        "tax_codes_loaded", "seller_created", "seller_updated"]


def test_a_pilot_code_is_accepted_only_with_confirmation(store):
    with pytest.raises(ValidationFailed):
        set_seller(name="试点", tax_id="91110000600037341A", drawer="张三")
    settings = set_seller(name="试点", tax_id="91110000600037341A", drawer="张三", confirm_tax_id=True)
    assert settings.tax_id_confirmed


def test_schema_version_is_recorded_and_reopening_is_harmless(data_dir):
    store = open_store(data_dir)
    assert store.db.pragma("user_version") == migrations.LATEST
    store.close()
    store = open_store(data_dir)
    assert store.db.pragma("user_version") == migrations.LATEST
    store.close()


def test_a_store_from_a_newer_program_is_not_touched(data_dir):
    store = open_store(data_dir)
    store.db.pragma("user_version", migrations.LATEST + 1)
    store.close()
    with pytest.raises(migrations.StoreTooNew):
        open_store(data_dir)
