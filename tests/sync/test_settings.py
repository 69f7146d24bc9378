"""Platform URL and token settings: checked, kept in the store, the token never shown in full."""

from __future__ import annotations

import pytest


def test_platform_settings_are_checked_and_the_token_masked(qtbot, store, monkeypatch):
    from app.core.errors import ValidationFailed
    from app.platform.client import mask_token
    from app.services.settings import make_client, platform_token, platform_url, set_platform
    from app.ui.sync_actions import PlatformSettingsDialog

    assert platform_url() == "http://127.0.0.1:8765" and platform_token() == ""
    with pytest.raises(ValidationFailed) as failed:
        set_platform("ftp://example", None)
    assert failed.value.errors[0].field == "platform.url"
    set_platform("http://127.0.0.1:9000/api/", "s3cret-token-value")
    assert platform_url() == "http://127.0.0.1:9000/api" and platform_token() == "s3cret-token-value"
    assert mask_token("s3cret-token-value") == "s3c…ue" and mask_token("") == "(none)"
    client = make_client()
    assert client.base_url == "http://127.0.0.1:9000/api" and "s3cret-token-value" not in repr(client)

    dialog = PlatformSettingsDialog()
    qtbot.addWidget(dialog)
    assert dialog.token.text() == "" and "s3c…ue" in dialog.token.placeholderText()
    assert "s3cret-token-value" not in dialog.token.placeholderText()
    dialog.url.setText("http://127.0.0.1:9100")
    assert dialog.save()
    assert platform_url() == "http://127.0.0.1:9100" and platform_token() == "s3cret-token-value"  # kept
    dialog = PlatformSettingsDialog()
    qtbot.addWidget(dialog)
    dialog.url.setText("not a url")
    qtbot.keyClicks(dialog.token, "new-token-1234")
    # A bad URL stores nothing, not even the new token.
    from PySide6.QtWidgets import QMessageBox

    warnings = []
    monkeypatch.setattr(QMessageBox, "warning", staticmethod(lambda *args: warnings.append(args[2])))
    assert not dialog.save()
    assert "平台地址" in warnings[0]
    assert platform_token() == "s3cret-token-value"
