"""Build a realistic store of many invoices for the benchmarks (10k, 100k, 1M in minutes).

    .venv/bin/python tests/benchmarks/build_store.py --invoices 1000000 --waiting 10000 --out DIR [--force]

Lines (1-5 an invoice, real codes of the shipped table), buyers in the customer book, a valid audit
chain ("issued" and "accepted" entries as the services write them), both channels, most invoices
accepted, --waiting of them waiting to upload (with queue entries), a few red-letter and cancelled
ones. Built through tests/helpers/store_builder.py (the services' row builders, bulk inserts).

Refuses the clerk's own data dir (FAPIAO_DESK_DATA or the platformdirs default) and any folder that
already holds a store; --force rebuilds in a folder holding a scratch store (never the clerk's).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))


def main(argv: list[str] | None = None) -> int:
    from tests.helpers.store_builder import RefusedTarget, build_store

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--invoices", type=int, required=True)
    parser.add_argument("--waiting", type=int, default=0, help="invoices waiting to upload")
    parser.add_argument("--red", type=int, default=None, help="red-letter invoices (default invoices / 2000)")
    parser.add_argument("--cancelled", type=int, default=None, help="cancelled invoices (default invoices / 5000)")
    parser.add_argument("--direct-share", type=float, default=0.3, help="share of direct-channel invoices")
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--out", required=True, type=Path, help="a new folder (never the desk's data dir)")
    parser.add_argument("--force", action="store_true", help="rebuild where a scratch store already is")
    args = parser.parse_args(argv)
    try:
        report = build_store(args.out, args.invoices, waiting=args.waiting, red=args.red, cancelled=args.cancelled,
                             direct_share=args.direct_share, seed=args.seed, force=args.force,
                             progress=lambda text: print(text, flush=True))
    except (RefusedTarget, ValueError) as refused:
        print(refused, file=sys.stderr)
        return 2
    print(report.describe())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
