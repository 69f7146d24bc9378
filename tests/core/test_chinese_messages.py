"""Issue 15: no English in the Chinese interface. A field is named as the clerk knows it (its id stays for
machines), a state by its words, and a message kept as text ("中文 (English)", or English alone from an older
desk) is shown in the chosen language."""

from __future__ import annotations

import pytest

from app.core import status
from app.core.errors import FieldError, ValidationFailed, field_label, split_message, stored_message


def test_a_field_error_names_the_field_in_words_and_keeps_its_id():
    reason = FieldError("red_reason", "请选择红字发票开具原因", "choose the reason")
    amount = FieldError("lines[0].amount", "应为金额", "must be an amount")
    assert reason.describe() == "红字发票开具原因：请选择红字发票开具原因"
    assert amount.describe() == "第1行金额：应为金额"
    assert amount.describe("en") == "line 1 amount: must be an amount"
    failed = ValidationFailed([reason, amount])
    assert "red_reason" not in failed.describe("zh") and "lines[0]" not in failed.describe("zh")
    assert "red_reason" not in failed.message_zh and "lines[0]" not in failed.message_en
    # The id is what the form marks its widgets by and what --json gives.
    assert [e.field for e in failed.errors] == ["red_reason", "lines[0].amount"]
    assert amount.as_json() == {"field": "lines[0].amount", "label": "第1行金额", "message": "应为金额",
                                "message_en": "must be an amount"}


@pytest.mark.parametrize(("field", "zh", "en"), [
    ("decision", "确认意见", "decision"),
    ("platform.url", "平台地址", "platform address"),
    ("backup.keep", "保留备份份数", "backups kept"),
    ("rows[3].tax_code", "第3行税收分类编码", "row 3 tax classification code"),
    ("[1]lines[0].tax_rate", "第2张发票第1行税率/征收率", "invoice 2 line 1 tax rate"),
    ("stock.quota_slice", "stock.quota_slice", "stock quota slice"),  # no label: English words at least
])
def test_field_labels(field, zh, en):
    assert (field_label(field), field_label(field, "en")) == (zh, en)


def test_a_message_that_already_names_its_field_is_not_named_twice():
    error = FieldError("record", "平台记录不是有效发票：价税合计不符", "the record does not parse")
    assert error.describe() == "平台记录不是有效发票：价税合计不符"


@pytest.mark.parametrize(("kept", "zh", "en"), [
    # As DeskError.describe("zh") keeps them now.
    ("平台暂时不可用（HTTP 503） (HTTP 503 from the platform)", "平台暂时不可用（HTTP 503）",
     "HTTP 503 from the platform"),
    # As older desks kept them: the details in the English half only, or English alone.
    ("平台暂时不可用 (HTTP 503 from the platform)", "平台暂时不可用（HTTP 503）", "HTTP 503 from the platform"),
    ("连接被拒绝 (connection refused, http://127.0.0.1:9)", "连接被拒绝（http://127.0.0.1:9）",
     "connection refused, http://127.0.0.1:9"),
    ("connection refused", "连接被拒绝", "connection refused"),
    ("HTTP 503 Service Unavailable", "平台暂时不可用（HTTP 503）", "HTTP 503 Service Unavailable"),
    ("timeout after 10 s", "平台无应答，10 秒超时", "timeout after 10 s"),
    ("平台无应答，5 秒超时 (timeout after 5s, POST /v2/issue)", "平台无应答，5 秒超时（POST /v2/issue）",
     "timeout after 5s, POST /v2/issue"),
    ("平台拒绝了令牌 (the platform refused the token, 401 unauthorized): set a valid token (current abc…yz)",
     "平台拒绝了令牌（HTTP 401）：请设置有效的令牌（当前 abc…yz）",
     "the platform refused the token, 401 unauthorized: set a valid token (current abc…yz)"),
    ("平台应答不符合协议 (unexpected answer, HTTP 200, to health)", "平台应答不符合协议（HTTP 200，健康检查）",
     "unexpected answer, HTTP 200, to health"),
    # What the sync layer writes in English around another message.
    ("sender stopped before the answer arrived", "发送程序在平台应答前停止，结果待确认",
     "sender stopped before the answer arrived"),
    ("results expired: looked up by number", "平台已不保留受理结果，改按号码查询",
     "results expired: looked up by number"),
    ("look-up failed: 平台暂时不可用（HTTP 502） (HTTP 502 from the platform)",
     "按号码查询失败：平台暂时不可用（HTTP 502）", "look-up failed: HTTP 502 from the platform"),
    ("upload refused: line 1 amount: must be an amount (第1行金额：应为金额)", "上传被平台拒绝：第1行金额：应为金额",
     "upload refused: line 1 amount: must be an amount"),
    ("POST /v2/issue: HTTP 503", "POST /v2/issue：平台暂时不可用（HTTP 503）", "POST /v2/issue: HTTP 503"),
    # Neither: shown as it is.
    ("打印机卡纸", "打印机卡纸", "打印机卡纸"),
])
def test_a_kept_message_in_either_language(kept, zh, en):
    assert split_message(kept) == (zh, en)
    assert stored_message(kept) == zh and stored_message(kept, "en") == en


def test_every_queue_state_has_words():
    states = [value for name, value in vars(status).items() if name.startswith("Q_")]
    assert set(states) <= set(status.QUEUE_STATE_LABELS)
    assert status.queue_state_label(status.Q_WITHDRAWN) == "已撤回"
    assert status.queue_state_label(status.Q_LOOKUP) == "按号码查询中"
    assert status.queue_state_label(status.Q_WITHDRAWN, "en") == "withdrawn"
    batches = [value for name, value in vars(status).items() if name.startswith("B_")]
    assert set(batches) <= set(status.BATCH_STATE_LABELS)
    requests = [status.REQUEST_WAITING, status.REQUEST_DONE, status.REQUEST_REFUSED]
    assert set(requests) <= set(status.REQUEST_STATE_LABELS)
    assert status.record_status_label("reversed_in_full") == "已全额红冲"
