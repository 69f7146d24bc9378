"""Command line for the tamper-evident history and verified backups: audit verify/log, backup,
backups, backup-settings, restore. Same services as the app; app/cli/__init__.py registers these.

Exit status: 0 whole / done, 1 the history is broken, a backup did not verify or the store is
damaged, 2 bad input.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from app.cli.common import EXIT_ERROR, EXIT_OK, BadInput, Subcommands, data_dir_of, open_store_of, print_json

# --- audit ---------------------------------------------------------------------------------------

def cmd_audit_verify(args: argparse.Namespace) -> int:
    from app.services.backup import anchors, backup_folder
    from app.services.integrity import check_history
    from app.services.seller import get_seller

    open_store_of(args)
    heads = []
    if not args.no_anchors:
        seller = get_seller()
        heads = anchors(backup_folder(data_dir_of(args)), seller.party.tax_id if seller else "", data_dir_of(args))
    report = check_history(anchors=heads, full=args.full)
    if report.ok:
        scope = "full check" if not report.quick else (
            "quick check: after the verified head"
            + (f", sample #{report.sampled[0]}-#{report.sampled[1]}" if report.sampled else "")
            + "; --full checks every entry and invoice")
        print(f"审计链完整 / audit chain whole: {report.entries} entries, {report.invoices} invoices, "
              f"head #{report.head_id} {report.head_hash[:16]}, checked against {len(heads)} backup head(s) "
              f"({scope})")
        return EXIT_OK
    first = report.first
    if first is None:  # not ok, yet no finding: cannot be, but say so rather than crash
        print("审计链检查未通过 / audit check failed", file=sys.stderr)
        return EXIT_ERROR
    print(f"审计链断裂 / audit chain broken at entry #{first.entry_id if first.entry_id is not None else '-'}",
          file=sys.stderr)
    print(f"  id: {first.entry_id if first.entry_id is not None else '-'}", file=sys.stderr)
    print(f"  time: {first.at or '-'}", file=sys.stderr)
    print(f"  action: {first.action or '-'}", file=sys.stderr)
    print(f"  invoice: {first.invoice_number or '-'}", file=sys.stderr)
    print(f"  reason: {first.reason}", file=sys.stderr)
    if len(report.findings) > 1:
        print(f"  ({len(report.findings) - 1} more finding(s) after it)", file=sys.stderr)
    return EXIT_ERROR


def cmd_audit_log(args: argparse.Namespace) -> int:
    from app.services.integrity import invoice_history
    from app.store.queries import find_row

    open_store_of(args)
    if args.number is not None and find_row(args.number) is None:
        raise BadInput(f"number（发票号码）：没有号码为 {args.number} 的发票", f"number: no invoice {args.number}")
    entries = invoice_history(args.number)
    if args.json:
        print_json([{"id": e.id, "at": e.at, "clerk": e.clerk, "action": e.action,
                          "invoice": getattr(e, "provisional_number", None), "detail": json.loads(e.detail),
                          "hash": e.hash} for e in entries])
        return EXIT_OK
    for e in entries:
        print("\t".join([f"#{e.id}", e.at, e.clerk or "-", e.action, getattr(e, "provisional_number", None) or "-",
                         e.detail]))
    return EXIT_OK


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
    open_store_of(args).close()
    data_dir = data_dir_of(args)
    folder = Path(args.to) if args.to else Path(backup.backup_settings(data_dir)["folder"])
    record = backup.backup_store(data_dir, folder=folder, reason="manual (command line)", keep=args.keep)
    _print_record(record, folder)
    return EXIT_OK if record.ok else EXIT_ERROR


def cmd_backups(args: argparse.Namespace) -> int:
    from app.services import backup
    folder = Path(args.folder) if args.folder else backup.backup_folder(data_dir_of(args))
    records = backup.read_manifest(folder)
    if args.json:
        from dataclasses import asdict

        print_json([{**asdict(r), "path": str(folder / r.file), "exists": (folder / r.file).exists()}
                         for r in records])
        return EXIT_OK
    if not records:
        print(f"{folder}: 没有备份 / no backups")
    for r in records:
        print("\t".join([r.created_at, r.status, str(r.invoices), r.reason, str(folder / r.file)]))
    return EXIT_OK


def cmd_backup_settings(args: argparse.Namespace) -> int:
    from app.services import backup
    open_store_of(args)
    settings = backup.set_backup_settings(data_dir_of(args), folder=args.folder, keep=args.keep,
                                          every_hours=args.every_hours)
    print_json(settings)
    return EXIT_OK


def cmd_restore(args: argparse.Namespace) -> int:
    from app.services import backup
    path = Path(args.file)
    if not path.exists():
        raise BadInput(f"file（备份文件）：备份文件不存在 {path}", f"file: no such backup file {path}")
    result = backup.restore_backup(data_dir_of(args), path, confirm_older=args.confirm_older)  # BadBackup: exit 1
    print(f"已恢复 / restored from {result.restored_from}: {result.snapshot.invoices} invoices, "
          f"{result.snapshot.entries} audit entries")
    for aside in result.kept_aside:
        print(f"  the store before the restore is kept as {aside}")
    since = (result.backup_created_at or "")[:10]
    if since:
        print(f"  invoices issued after the backup ({since}) are recovered from the platform with:\n"
              f"  python -m app reconcile --from {since} --to <today> --import")
    return EXIT_OK



def register(commands: Subcommands) -> None:
    """The parsers of this group, each with its handler."""
    audit = commands.add_parser("audit", help="the tamper-evident history (审计日志)")
    audit_commands = audit.add_subparsers(dest="subcommand", metavar="ACTION", required=True)
    verify = audit_commands.add_parser("verify", help="check the audit chain and every invoice against it")
    verify.set_defaults(handler=cmd_audit_verify)
    verify.add_argument("--full", action="store_true",
                        help="check every entry and invoice (default: what came after the verified head, "
                             "plus a rolling sample of the older part)")
    verify.add_argument("--no-anchors", action="store_true",
                        help="do not compare with the chain heads recorded by the backups")
    log = audit_commands.add_parser("log", help="the history of one invoice, or of all")
    log.set_defaults(handler=cmd_audit_log)
    log.add_argument("number", nargs="?", default=None)
    log.add_argument("--json", action="store_true")

    make = commands.add_parser("backup", help="write and verify a backup now")

    make.set_defaults(handler=cmd_backup)
    make.add_argument("--to", default=None, metavar="DIR", help="folder (default: the backup folder setting)")
    make.add_argument("--keep", type=int, default=None, help="keep this many newest backups (default: setting)")
    listing = commands.add_parser("backups", help="the backups and their verification result")
    listing.set_defaults(handler=cmd_backups)
    listing.add_argument("--folder", default=None)
    listing.add_argument("--json", action="store_true")
    settings = commands.add_parser("backup-settings", help="backup folder, how many to keep, how often")
    settings.set_defaults(handler=cmd_backup_settings)
    settings.add_argument("--folder", default=None, help="e.g. a USB stick or a network share")
    settings.add_argument("--keep", type=int, default=None)
    settings.add_argument("--every-hours", type=float, default=None)
    restore = commands.add_parser("restore", help="restore the store from a verified backup")
    restore.set_defaults(handler=cmd_restore)
    restore.add_argument("file")
    restore.add_argument("--confirm-older", action="store_true",
                         help="restore it even though a newer verified backup exists (its later invoices are lost)")

