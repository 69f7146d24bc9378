"""Command line for the upload queue and the reference platform: sync, queue, platform.
app/cli/__init__.py registers these parsers, each with its handler.

    sync [--once] [--url URL] [--token - | --token-file F] [--save] [--batch-size N<=100] [--timeout S]
        exit 0 queue empty, 3 invoices still wait, 4 some rejected or too late to upload (the clerk must act)
    queue [--state S] [--json] | queue --requeue NUMBER | queue --release-hold
    platform [--host H] [--port P] [--db FILE] [--token T] [--mode M] [--fail-rate F] [--delay-ms D]
             [--result-delay-ms MS] [--quota A] [--taxpayer-type T] ...   (app/platform/server.add_arguments)
"""

from __future__ import annotations

import argparse
import signal
import sys
from types import FrameType
from typing import TYPE_CHECKING

from app.cli.common import EXIT_OK, BadInput, Subcommands, add_token_options, open_store_of, print_json
from app.platform.http_client import MAX_UPLOAD, HttpPlatformClient
from app.sync.worker import PassReport, QueueWorker, WorkerEvent

if TYPE_CHECKING:
    from app.sync.monitor import StateChange
    from app.sync.runtime import SyncRuntime

EXIT_WAITING = 3
EXIT_REJECTED = 4

HELD_MESSAGE = ("上传已暂停：{reason}。恢复备份后请先对账（reconcile），确认无误后执行 `queue --release-hold` "
                "(uploads held after a restore: reconcile first, then `queue --release-hold`)")


def _too_late_open() -> int:
    """Invoices the platform called too late to upload that are not yet issued again (the clerk must act)."""
    from app.core.status import UPLOAD_TOO_LATE
    from app.store.models import Invoice

    again = Invoice.select(Invoice.reissue_of).where(Invoice.reissue_of.is_null(False))
    return int(Invoice.select().where((Invoice.status == UPLOAD_TOO_LATE)
                                      & Invoice.provisional_number.not_in(again)).count())


def _exit_status() -> int:
    from app.services.queue import waiting_counts

    now = waiting_counts()
    if now.rejected or _too_late_open():
        return EXIT_REJECTED
    return EXIT_WAITING if now.waiting else 0


def _summary(report: PassReport) -> str:
    """What this pass did (sent for checking, accepted, rejected) and what the queue holds now."""
    from app.services.queue import waiting_counts

    now = waiting_counts()
    too_late = _too_late_open()
    return (f"上传：本次送平台校验 {report.sent} 张，接受 {report.accepted} 张，拒绝 {report.rejected} 张；"
            f"仍在等待 {now.waiting} 张，被拒待处理 {now.rejected} 张，超期未上传 {too_late} 张 "
            f"(sent for checking {report.sent}, accepted {report.accepted}, rejected {report.rejected}; "
            f"waiting {now.waiting}, rejected needing attention {now.rejected}, too late {too_late})")


def cmd_sync(args: argparse.Namespace) -> int:
    from app.services.settings import platform_token, platform_url, set_platform

    if not 1 <= args.batch_size <= MAX_UPLOAD:
        raise BadInput(f"batch-size（每批张数）：须在 1 到 {MAX_UPLOAD} 之间，不能是 {args.batch_size}",
                       f"batch-size: must be 1 to {MAX_UPLOAD}, not {args.batch_size}")
    if not args.timeout > 0:
        raise BadInput(f"timeout（等待秒数）：须大于 0，不能是 {args.timeout}",
                       f"timeout: must be more than 0 seconds, not {args.timeout}")
    open_store_of(args)
    if args.save:
        set_platform(args.url, args.token)
    url = args.url or platform_url()
    token = args.token if args.token is not None else platform_token()
    try:
        HttpPlatformClient(url, token)
    except ValueError:
        raise BadInput(f"url（平台地址）：“{url}”不是有效的 http(s) 地址",
                       f"url: {url!r} is not an http(s) URL") from None
    if not token:
        print("token（平台令牌）：未设置令牌，平台将拒绝上传 "
              "(no token set: give one with --token - or --token-file FILE, and --save to keep it)", file=sys.stderr)

    def factory() -> HttpPlatformClient:
        return HttpPlatformClient(url, token, timeout=args.timeout, batch_timeout=max(args.timeout, 15.0))

    if args.once:
        from app.services.queue import make_due_now

        worker = QueueWorker(factory, batch_size=args.batch_size)
        make_due_now()  # a pass asked for by hand is "upload now": it does not wait out the back-off
        report = worker.run_once()
        worker.close()
        if report.held:
            print(HELD_MESSAGE.format(reason=report.held), file=sys.stderr)
        if report.lock_busy:
            print("另一个上传程序正在运行 (another worker holds the upload lock)", file=sys.stderr)
        if report.unauthorized:
            print(f"平台拒绝了令牌，已停止上传，未丢失任何发票：{report.unauthorized}", file=sys.stderr)
        elif report.last_error:
            print(f"平台暂时不可用，稍后重试：{report.last_error}", file=sys.stderr)
        print(_summary(report))
        return _exit_status()
    from app.sync.runtime import SyncRuntime  # the loops: only for the command that runs them

    return _serve(SyncRuntime(factory, batch_size=args.batch_size))


def _serve(runtime: SyncRuntime) -> int:
    """Keep draining until SIGINT/SIGTERM, woken when the monitor sees the platform come back."""
    held_said: list[bool] = []  # say the hold once, not on every pass

    def on_state(change: StateChange) -> None:
        print(f"{change.at:%H:%M:%S} platform {change.state}" + (f": {change.error}" if change.error else ""),
              file=sys.stderr, flush=True)

    def on_event(event: WorkerEvent) -> None:
        if event.kind == "unauthorized":
            print(f"平台拒绝了令牌，暂停上传 (token refused): {event.message}", file=sys.stderr, flush=True)
        elif event.kind == "held" and not held_said:
            held_said.append(True)
            print(HELD_MESSAGE.format(reason=event.message), file=sys.stderr, flush=True)
        elif event.kind == "pass_done" and (event.report.sent or event.report.accepted or event.report.rejected):
            print(_summary(event.report), flush=True)

    runtime.add_state_listener(on_state)
    runtime.add_worker_listener(on_event)

    def stop(signum: int, frame: FrameType | None) -> None:
        runtime.worker.stop()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    print("sync service running; Ctrl+C to stop", file=sys.stderr, flush=True)
    runtime.run_in_foreground()
    return _exit_status()


def cmd_queue(args: argparse.Namespace) -> int:
    from app.core.money import format_money
    from app.core.status import Q_REJECTED, Q_TOO_LATE, QUEUE_WAITING_STATES
    from app.services.queue import queue_rows, rejection_reasons, requeue

    open_store_of(args)
    if args.release_hold:
        from app.services.queue import release_upload_hold

        released = release_upload_hold(clerk=args.clerk or "")
        print("上传暂停已解除 (uploads may go again)" if released else "没有暂停的上传 (uploads were not held)")
        return EXIT_OK
    if args.requeue:
        requeue(args.requeue, clerk=args.clerk or "", why="requeued from the command line")
        print(f"{args.requeue} 已重新排队 (queued again)")
        return EXIT_OK
    states = [args.state] if args.state else [*QUEUE_WAITING_STATES, Q_REJECTED, Q_TOO_LATE]
    rows = queue_rows(states)
    if args.json:
        print_json([{"number": r.number, "state": r.state, "attempts": r.attempts, "next_try_at": r.next_try_at,
                          "last_error": r.last_error, "reasons": rejection_reasons(r.last_error)} for r in rows])
        return EXIT_OK
    for r in rows:
        reasons = "; ".join(f"{d.get('field')}: {d.get('message')}" for d in rejection_reasons(r.last_error))
        print("\t".join([r.number, r.state, str(r.attempts), r.buyer_name, format_money(r.total_with_tax),
                         reasons or r.last_error]))
    return EXIT_OK


def cmd_platform(args: argparse.Namespace) -> int:
    from app.platform.server import run

    return run(args)


def register(commands: Subcommands) -> None:
    sync = commands.add_parser("sync", help="upload the queue to the platform (--once: one pass)")
    sync.set_defaults(handler=cmd_sync)
    sync.add_argument("--once", action="store_true", help="one pass, then exit 0 empty / 3 waiting / 4 rejected")
    sync.add_argument("--url", default=None, help="the platform (default: the setting)")
    add_token_options(sync)
    sync.add_argument("--save", action="store_true", help="keep --url/--token as the desk's settings")
    sync.add_argument("--batch-size", type=int, default=MAX_UPLOAD,
                      help=f"invoices a direct-channel upload carries, at most {MAX_UPLOAD}")
    sync.add_argument("--timeout", type=float, default=5.0, help="seconds to wait for the platform")

    queue = commands.add_parser("queue", help="what waits to be uploaded, what was rejected and why")
    queue.set_defaults(handler=cmd_queue)
    queue.add_argument("--state", default=None)
    queue.add_argument("--json", action="store_true")
    queue.add_argument("--requeue", metavar="NUMBER", default=None, help="send a rejected invoice again")
    queue.add_argument("--release-hold", action="store_true",
                       help="let uploads go again after a restore, once reconciled")
    queue.add_argument("--clerk", default=None)

    from app.platform.server import add_arguments

    platform = commands.add_parser("platform", help="run the reference platform (for tests and demos)")
    platform.set_defaults(handler=cmd_platform)
    add_arguments(platform)
