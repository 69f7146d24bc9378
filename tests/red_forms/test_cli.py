"""`red-form raise|list|show|agree|disagree|revoke` and `red NUMBER --form UUID` over the command line, against
the reference platform over real HTTP."""

from __future__ import annotations

import json

from tests.helpers.cli import run_cli, token_file_args
from tests.helpers.platform import SYNC_TOKEN
from tests.red_forms.support import accepted_blue, buyer, drain


def test_the_command_line_raises_lists_answers_and_issues(online, store, data_dir):
    blue = accepted_blue(online)
    other = accepted_blue(online)
    raised_by_buyer = buyer(online, "raise", 201, number=other, reason="01",
                            lines=[{"original_line_no": 1, "amount": "-1000.00", "tax": "-60.00"}])
    store.close()
    platform = ("--url", online.url, *token_file_args(SYNC_TOKEN))

    missing = run_cli(data_dir, "red-form", "raise", blue, "--full", *platform)
    assert missing.returncode == 2 and "reason" in missing.stderr
    broken = run_cli(data_dir, "red-form", "raise", blue, "--reason", "02", "--lines",
                     json.dumps([{"original_line_no": 1, "quantity": "1"}]), *platform)
    assert broken.returncode == 2 and "第1行对应蓝字发票行号" in broken.stderr  # a service line: no 销货退回
    raised = run_cli(data_dir, "red-form", "raise", blue, "--reason", "return", "--lines",
                     json.dumps([{"original_line_no": 2, "quantity": "-1"}]), *platform)
    assert raised.returncode == 0, raised.stderr
    uuid = raised.stdout.splitlines()[1].split("\t")[0]
    assert "\t01\t" in raised.stdout and "-113.00" in raised.stdout

    listed = run_cli(data_dir, "red-form", "list", "--json", *platform)
    forms = {f["uuid"]: f for f in json.loads(listed.stdout)}
    assert forms[raised_by_buyer["uuid"]]["status"] == "03" and forms[raised_by_buyer["uuid"]]["raised_by"] == "buyer"
    shown = json.loads(run_cli(data_dir, "red-form", "show", uuid, "--offline").stdout)
    assert shown["status"] == "01" and shown["total_amount"] == "-100.00"

    agreed = run_cli(data_dir, "red-form", "agree", raised_by_buyer["uuid"], *platform)
    assert agreed.returncode == 0 and "\t04\t" in agreed.stdout, agreed.stderr
    again = run_cli(data_dir, "red-form", "disagree", raised_by_buyer["uuid"], *platform)
    assert again.returncode == 2 and "03" in again.stderr
    revoke_buyers = run_cli(data_dir, "red-form", "revoke", raised_by_buyer["uuid"], *platform)
    assert revoke_buyers.returncode == 2 and "确认意见" in revoke_buyers.stderr

    red = run_cli(data_dir, "red", blue, "--form", uuid, *platform)
    assert red.returncode == 0, red.stderr
    assert red.stdout.split()[1] == "-113.00"
    wrong_blue = run_cli(data_dir, "red", other, "--form", uuid, *platform)
    assert wrong_blue.returncode == 2 and "红字确认单" in wrong_blue.stderr
    on_buyers = run_cli(data_dir, "red", other, "--form", raised_by_buyer["uuid"], *platform)
    assert on_buyers.returncode == 0, on_buyers.stderr
    assert on_buyers.stdout.split()[1] == "-1060.00"

    third = accepted_blue_after(online, store, data_dir)
    revoked = run_cli(data_dir, "red-form", "raise", third, "--reason", "01", "--full", *platform)
    third_uuid = revoked.stdout.splitlines()[1].split("\t")[0]
    done = run_cli(data_dir, "red-form", "revoke", third_uuid, *platform)
    assert done.returncode == 0 and "\t08\t" in done.stdout, done.stderr


def accepted_blue_after(online, store, data_dir) -> str:
    from app.services.store_access import open_store

    reopened = open_store(data_dir)
    try:
        number = accepted_blue(online)
        drain(online)
    finally:
        reopened.close()
    return number
