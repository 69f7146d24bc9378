"""Command line for the tamper-evident history and verified backups: audit verify/log, backup,
backups, backup-settings, restore. Same services as the app; app/cli.py registers these.

Exit status: 0 whole / done, 1 the history is broken, a backup did not verify or the store is
damaged, 2 bad input.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def _cli():
    import app.cli as cli

    return cli


def _data_dir(args: argparse.Namespace) -> Path:
    from app.store.database import default_data_dir

    return Path(args.data_dir) if args.data_dir is not None else default_data_dir()


# --- audit ---------------------------------------------------------------------------------------

def cmd_audit_verify(args: argparse.Namespace) -> int:
    from app.services import backup
    from app.services.integrity import verify_store
    from app.services.seller import get_seller

    cli = _cli()
    cli._open(args)
    anchors = []
    if not args.no_anchors:
        seller = get_seller()
        anchors = backup.anchors(backup.backup_folder(_data_dir(args)), seller.party.tax_id if seller else "")
    report = verify_store(anchors=anchors)
    if report.ok:
        print(f"审计链完整 / audit chain whole: {report.entries} entries, {report.invoices} invoices, "
              f"head #{report.head_id} {report.head_hash[:16]}, checked against {len(anchors)} backup head(s)")
        return cli.EXIT_OK
    first = report.first
    print(f"审计链断裂 / audit chain broken at entry #{first.entry_id if first.entry_id is not None else '-'}",
          file=sys.stderr)
    print(f"  id: {first.entry_id if first.entry_id is not None else '-'}", file=sys.stderr)
    print(f"  time: {first.at or '-'}", file=sys.stderr)
    print(f"  action: {first.action or '-'}", file=sys.stderr)
    print(f"  invoice: {first.invoice_number or '-'}", file=sys.stderr)
    print(f"  reason: {first.reason}", file=sys.stderr)
    if len(report.findings) > 1:
        print(f"  ({len(report.findings) - 1} more finding(s) after it)", file=sys.stderr)
    return cli.EXIT_ERROR


def cmd_audit_log(args: argparse.Namespace) -> int:
    from app.services.integrity import invoice_history
    from app.store.queries import find_row

    cli = _cli()
    cli._open(args)
    if args.number is not None and find_row(args.number) is None:
        raise cli.BadInput(f"number: 没有号码为 {args.number} 的发票 (no such invoice)")
    entries = invoice_history(args.number)
    if args.json:
        cli._print_json([{"id": e.id, "at": e.at, "clerk": e.clerk, "action": e.action,
                          "invoice": getattr(e, "provisional_number", None), "detail": json.loads(e.detail),
                          "hash": e.hash} for e in entries])
        return cli.EXIT_OK
    for e in entries:
        print("\t".join([f"#{e.id}", e.at, e.clerk or "-", e.action, getattr(e, "provisional_number", None) or "-",
                         e.detail]))
    return cli.EXIT_OK


# --- backups -------------------------------------------------------------------------------------

def _print_record(record, folder: Path) -> None:
    verdict = "校验通过 / verified good" if record.ok else "校验失败 / BAD"
    print(f"{folder / record.file}")
    print(f"  {verdict}: {record.invoices} invoices, {record.entries} audit entries, head #{record.head_id} "
          f"{record.head_hash[:16]}, {record.size} bytes, {record.seconds:.2f} s")
    for problem in record.problems:
        print(f"  problem: {problem}")


def cmd_backup(args: argparse.Namespace) -> int:
    from app.services import backup
    cli = _cli()
    cli._open(args).close()
    data_dir = _data_dir(args)
    folder = Path(args.to) if args.to else Path(backup.backup_settings(data_dir)["folder"])
    try:
        record = backup.backup_store(data_dir, folder=folder, reason="manual (command line)", keep=args.keep)
    except backup.BackupFailed as error:
        print(str(error), file=sys.stderr)
        return cli.EXIT_ERROR
    _print_record(record, folder)
    return cli.EXIT_OK if record.ok else cli.EXIT_ERROR


def cmd_backups(args: argparse.Namespace) -> int:
    from app.services import backup
    cli = _cli()
    folder = Path(args.folder) if args.folder else backup.backup_folder(_data_dir(args))
    records = backup.read_manifest(folder)
    if args.json:
        from dataclasses import asdict

        cli._print_json([{**asdict(r), "path": str(folder / r.file), "exists": (folder / r.file).exists()}
                         for r in records])
        return cli.EXIT_OK
    if not records:
        print(f"{folder}: 没有备份 / no backups")
    for r in records:
        print("\t".join([r.created_at, r.status, str(r.invoices), r.reason, str(folder / r.file)]))
    return cli.EXIT_OK


def cmd_backup_settings(args: argparse.Namespace) -> int:
    from app.services import backup
    cli = _cli()
    cli._open(args)
    settings = backup.set_backup_settings(_data_dir(args), folder=args.folder, keep=args.keep,
                                          every_hours=args.every_hours)
    cli._print_json(settings)
    return cli.EXIT_OK


def cmd_restore(args: argparse.Namespace) -> int:
    from app.services import backup
    cli = _cli()
    path = Path(args.file)
    if not path.exists():
        raise cli.BadInput(f"file: 备份文件不存在 {path} (no such file)")
    try:
        result = backup.restore_backup(_data_dir(args), path)
    except backup.BadBackup as error:
        print(str(error), file=sys.stderr)
        return cli.EXIT_ERROR
    print(f"已恢复 / restored from {result.restored_from}: {result.snapshot.invoices} invoices, "
          f"{result.snapshot.entries} audit entries")
    for aside in result.kept_aside:
        print(f"  the store before the restore is kept as {aside}")
    since = (result.backup_created_at or "")[:10]
    if since:
        print(f"  invoices issued after the backup ({since}) are recovered from the platform with:\n"
              f"  python -m app reconcile --from {since} --to <today> --import")
    return cli.EXIT_OK


HANDLERS = {
    "audit verify": cmd_audit_verify,
    "audit log": cmd_audit_log,
    "backup": cmd_backup,
    "backups": cmd_backups,
    "backup-settings": cmd_backup_settings,
    "restore": cmd_restore,
}


def add_parsers(commands) -> None:
    audit = commands.add_parser("audit", help="the tamper-evident history (审计日志)")
    audit_commands = audit.add_subparsers(dest="subcommand", metavar="ACTION", required=True)
    verify = audit_commands.add_parser("verify", help="check the audit chain and every invoice against it")
    verify.add_argument("--no-anchors", action="store_true",
                        help="do not compare with the chain heads recorded by the backups")
    log = audit_commands.add_parser("log", help="the history of one invoice, or of all")
    log.add_argument("number", nargs="?", default=None)
    log.add_argument("--json", action="store_true")

    make = commands.add_parser("backup", help="write and verify a backup now")
    make.add_argument("--to", default=None, metavar="DIR", help="folder (default: the backup folder setting)")
    make.add_argument("--keep", type=int, default=None, help="keep this many newest backups (default: setting)")
    listing = commands.add_parser("backups", help="the backups and their verification result")
    listing.add_argument("--folder", default=None)
    listing.add_argument("--json", action="store_true")
    settings = commands.add_parser("backup-settings", help="backup folder, how many to keep, how often")
    settings.add_argument("--folder", default=None, help="e.g. a USB stick or a network share")
    settings.add_argument("--keep", type=int, default=None)
    settings.add_argument("--every-hours", type=float, default=None)
    restore = commands.add_parser("restore", help="restore the store from a verified backup")
    restore.add_argument("file")


def register(handlers: dict, commands) -> None:
    """Called by app/cli.py."""
    handlers.update(HANDLERS)
    add_parsers(commands)
