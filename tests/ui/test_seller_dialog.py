"""First start: the seller profile and the clerk, checked as typed, saved through set_seller."""

from __future__ import annotations

import json

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog

from app.services.seller import get_seller
from app.store.models import AuditEntry, SellerProfile
from app.ui.application import first_start_dialog
from app.ui.marking import is_marked
from tests.helpers.bodies import SELLER_TAX_ID

BAD_CHECK_ID = SELLER_TAX_ID[:-1] + "X"


def open_first_start(qtbot):
    dialog = first_start_dialog()
    assert dialog is not None
    qtbot.addWidget(dialog)
    dialog.show()
    return dialog


def test_first_start_saves_the_profile_and_clerk(qtbot, store):
    dialog = open_first_start(qtbot)
    assert not dialog.save_button.isEnabled()
    dialog.edits["name"].setText("北京某某科技有限公司")  # Chinese is set, not typed (keyClicks is ASCII only)
    qtbot.keyClicks(dialog.edits["name"], " Ltd")
    qtbot.keyClicks(dialog.edits["tax_id"], SELLER_TAX_ID.lower())  # a clerk may type lower case
    qtbot.keyClicks(dialog.edits["address"], "Zhongguancun 1")
    qtbot.keyClicks(dialog.edits["phone"], "010-62345678")
    qtbot.keyClicks(dialog.edits["bank"], "ICBC")
    qtbot.keyClicks(dialog.edits["account"], "0200001234567890123")
    assert not dialog.save_button.isEnabled()  # the clerk is still missing
    assert not is_marked(dialog.edits["drawer"])  # no red before the clerk gets there
    dialog.save()  # trying to save shows every missing field
    assert is_marked(dialog.edits["drawer"]) and "开票人：不能为空" in dialog.messages.text()
    assert SellerProfile.select().count() == 0
    qtbot.keyClicks(dialog.edits["drawer"], "Zhang San")
    assert dialog.save_button.isEnabled() and dialog.messages.text() == ""
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)

    assert dialog.result() == QDialog.DialogCode.Accepted
    seller = get_seller()
    assert seller is not None
    assert seller.party.name == "北京某某科技有限公司 Ltd"
    assert seller.party.tax_id == SELLER_TAX_ID and not seller.tax_id_confirmed
    assert (seller.party.address, seller.party.account, seller.drawer) == (
        "Zhongguancun 1", "0200001234567890123", "Zhang San")
    assert AuditEntry.get(AuditEntry.action == "seller_created").clerk == "Zhang San"
    assert first_start_dialog() is None  # the next start goes straight to the main window


def test_a_bad_id_is_flagged_and_cannot_be_saved(qtbot, store):
    dialog = open_first_start(qtbot)
    qtbot.keyClicks(dialog.edits["name"], "Acme")
    qtbot.keyClicks(dialog.edits["drawer"], "Li")
    qtbot.keyClicks(dialog.edits["tax_id"], "91110108MA012345")  # 16 characters
    assert is_marked(dialog.edits["tax_id"]) and "18位" in dialog.edits["tax_id"].toolTip()
    assert "销售方纳税人识别号" in dialog.messages.text()
    assert not dialog.save_button.isEnabled() and not dialog.confirm_tax_id.isVisible()
    dialog.save()  # even called directly, nothing is stored
    assert SellerProfile.select().count() == 0 and dialog.isVisible()
    qtbot.keyClicks(dialog.edits["tax_id"], "6G")
    assert not is_marked(dialog.edits["tax_id"]) and dialog.save_button.isEnabled()


def test_failed_check_character_is_saved_only_with_the_confirmation(qtbot, store):
    dialog = open_first_start(qtbot)
    qtbot.keyClicks(dialog.edits["name"], "Acme")
    qtbot.keyClicks(dialog.edits["drawer"], "Li")
    qtbot.keyClicks(dialog.edits["tax_id"], BAD_CHECK_ID)
    assert is_marked(dialog.edits["tax_id"]) and "应为 G" in dialog.edits["tax_id"].toolTip()
    assert dialog.confirm_tax_id.isVisible() and not dialog.save_button.isEnabled()
    qtbot.mouseClick(dialog.confirm_tax_id, Qt.MouseButton.LeftButton, pos=dialog.confirm_tax_id.rect().center())
    assert dialog.save_button.isEnabled() and not is_marked(dialog.edits["tax_id"])
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    seller = get_seller()
    assert seller is not None
    assert seller.party.tax_id == BAD_CHECK_ID and seller.tax_id_confirmed
    assert json.loads(AuditEntry.get(AuditEntry.action == "seller_created").detail)["tax_id_confirmed"] is True


def test_seller_settings_later_start_from_the_profile(qtbot, store, seller):
    from app.ui.seller_dialog import SellerDialog

    dialog = SellerDialog(get_seller())
    qtbot.addWidget(dialog)
    assert dialog.edits["tax_id"].text() == SELLER_TAX_ID and dialog.edits["drawer"].text() == "张三"
    assert dialog.save_button.isEnabled()
    dialog.edits["drawer"].clear()
    qtbot.keyClicks(dialog.edits["drawer"], "Wang")
    dialog.save()
    saved = get_seller()
    assert saved is not None and saved.drawer == "Wang" and saved.party.name == "北京某某科技有限公司"
    assert AuditEntry.select().where(AuditEntry.action == "seller_updated").count() == 1
