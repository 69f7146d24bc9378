"""The seller profile (销售方) and the clerk who issues (开票人): asked on first start, editable later."""

from __future__ import annotations

from PySide6.QtWidgets import QCheckBox, QDialog, QDialogButtonBox, QFormLayout, QLabel, QLineEdit, QVBoxLayout, QWidget

from app.core.errors import FieldError, ValidationFailed, field_label
from app.services.seller import SellerSettings, set_seller, validate_seller
from app.ui.channel_status import CHANNEL_HELP, ChannelChoice, save_channel
from app.ui.i18n import language, tr
from app.ui.marking import mark

# form field -> (label, FieldError path that validate_seller uses, or None)
FIELDS = (
    ("name", "名称", "seller.name"),
    ("tax_id", "纳税人识别号", "seller.tax_id"),
    ("address", "地址", None),
    ("phone", "电话", None),
    ("bank", "开户行", None),
    ("account", "账号", None),
    ("drawer", "开票人", "drawer"),
    ("payee", "收款人", None),
    ("reviewer", "复核", None),
)
REQUIRED = ("name", "tax_id", "drawer")


def describe(error: FieldError) -> str:
    """"开票人：不能为空": the clerk's name for the field, not its path."""
    lang = language()
    separator = "：" if lang == "zh" else ": "
    return f"{field_label(error.field, lang)}{separator}{error.message(lang)}"


class SellerDialog(QDialog):
    def __init__(self, current: SellerSettings | None = None, parent: QWidget | None = None,
                 first_start: bool = False) -> None:
        super().__init__(parent)
        self.setWindowTitle(tr("销售方信息"))
        self.setMinimumWidth(520)
        self.saved: SellerSettings | None = None
        layout = QVBoxLayout(self)
        if first_start:
            intro = QLabel(tr("首次使用，请填写销售方（本单位）信息和开票人。"))
            intro.setWordWrap(True)
            layout.addWidget(intro)
        form = QFormLayout()
        layout.addLayout(form)
        self.edits: dict[str, QLineEdit] = {}
        for key, label, _ in FIELDS:
            edit = QLineEdit(self)
            edit.setObjectName(f"seller_{key}")
            self.edits[key] = edit
            form.addRow(tr(label) + (" *" if key in REQUIRED else ""), edit)
        self.edits["tax_id"].setMaxLength(20)
        self.confirm_tax_id = QCheckBox(tr("校验位不符，但我已核实此纳税人识别号无误"), self)
        self.confirm_tax_id.setObjectName("seller_confirm_tax_id")
        self.confirm_tax_id.setVisible(False)
        form.addRow("", self.confirm_tax_id)
        # The channel (直连 / 平台开具) is a setting of its own (app.services.channel), chosen here on first start.
        self.channel = ChannelChoice(self)
        self.channel.setToolTip(CHANNEL_HELP[0] if language() == "zh" else CHANNEL_HELP[1])
        form.addRow(tr("开票渠道", "Issuing channel"), self.channel)
        if first_start:
            channel_help = QLabel(CHANNEL_HELP[0] if language() == "zh" else CHANNEL_HELP[1], self)
            channel_help.setObjectName("seller_channel_help")
            channel_help.setWordWrap(True)
            channel_help.setStyleSheet("color: #555;")
            form.addRow("", channel_help)
        self.messages = QLabel(self)
        self.messages.setObjectName("seller_messages")
        self.messages.setWordWrap(True)
        self.messages.setStyleSheet("color: #b71c1c;")
        layout.addWidget(self.messages)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel,
                                        self)
        self.buttons.accepted.connect(self.save)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)

        if current is not None:
            party = current.party
            for key, value in (("name", party.name), ("tax_id", party.tax_id), ("address", party.address),
                               ("phone", party.phone), ("bank", party.bank), ("account", party.account),
                               ("drawer", current.drawer), ("payee", current.payee),
                               ("reviewer", current.reviewer)):
                self.edits[key].setText(value)
            self.confirm_tax_id.setChecked(current.tax_id_confirmed)
        self._touched: set[str] = set(self.edits) if current is not None else set()
        for key, edit in self.edits.items():
            edit.textEdited.connect(lambda _text, key=key: self._edited(key))
        self.edits["tax_id"].textEdited.connect(lambda _text: self.confirm_tax_id.setChecked(False))
        self.confirm_tax_id.toggled.connect(lambda _on: self.validate())
        self.validate()

    @property
    def save_button(self):
        return self.buttons.button(QDialogButtonBox.StandardButton.Save)

    def _edited(self, key: str) -> None:
        self._touched.add(key)
        self.validate()

    def values(self) -> dict[str, str]:
        return {key: edit.text() for key, edit in self.edits.items()}

    def validate(self) -> list[FieldError]:
        values = self.values()
        errors = validate_seller(values["name"], values["tax_id"], values["drawer"], self.confirm_tax_id.isChecked())
        by_path: dict[str, FieldError] = {}
        for error in errors:
            by_path.setdefault(error.field, error)
        overridable = any(e.overridable for e in errors) or (
            self.confirm_tax_id.isChecked() and not any(e.field == "seller.tax_id" for e in errors))
        # The box stays visible while ticked, so the clerk can see what was confirmed.
        self.confirm_tax_id.setVisible(overridable and (self.confirm_tax_id.isChecked()
                                                        or any(e.overridable for e in errors)))
        shown = []
        for key, _label, path in FIELDS:
            found = by_path.get(path) if path else None
            message = found.message(language()) if found and key in self._touched else None
            mark(self.edits[key], message)
            if found and message:
                shown.append(describe(found))
        self.messages.setText("\n".join(shown))
        self.save_button.setEnabled(not errors)
        return errors

    def save(self) -> None:
        if self.validate():
            self._touched = set(self.edits)
            self.validate()
            return
        values = self.values()
        try:
            self.saved = set_seller(confirm_tax_id=self.confirm_tax_id.isChecked(), **values)
        except ValidationFailed as failed:
            self.messages.setText("\n".join(describe(e) for e in failed.errors))
            return
        refused = save_channel(self.channel, clerk=values["drawer"])
        if refused:
            self.messages.setText(refused)
            return
        self.accept()
