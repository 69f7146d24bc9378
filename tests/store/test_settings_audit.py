import json

from app.services.settings import set_platform, set_setting
from app.store.audit import verify_chain
from app.store.models import AuditEntry


def test_a_changed_setting_is_in_the_history_and_secrets_are_not(store):
    set_setting("offline.limits", {"max_count": 500}, clerk="张三")
    set_setting("offline.limits", {"max_count": 500}, clerk="张三")  # unchanged: nothing to record
    set_setting("offline.limits", {"max_count": 5000}, clerk="李四")
    set_platform("http://127.0.0.1:9000", "s3cret-token-value")
    entries = list(AuditEntry.select().where(AuditEntry.action == "setting_changed").order_by(AuditEntry.id))
    details = [json.loads(e.detail) for e in entries]
    assert [d["key"] for d in details] == ["offline.limits", "offline.limits", "platform.url"]
    assert details[1]["value"] == {"max_count": 5000} and entries[1].clerk == "李四"
    # The token is not a setting (app/services/secrets.py): its change is an entry of its own, without it.
    token = AuditEntry.get(AuditEntry.action == "platform_token_stored")
    assert json.loads(token.detail) == {"where": "file", "set": True}
    assert "s3cret" not in "".join(e.detail for e in AuditEntry.select())
    assert verify_chain() is None
