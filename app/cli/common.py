"""What every command shares: exit statuses, the input error, JSON in and out, opening the store."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any, TypeAlias

from app.core.errors import EXIT_BAD_INPUT, EXIT_ERROR, EXIT_OK, BadInput
from app.services.store_access import open_store
from app.store.database import Store, default_data_dir

__all__ = ["EXIT_BAD_INPUT", "EXIT_ERROR", "EXIT_OK", "BadInput", "Subcommands", "data_dir_of", "open_store_of",
           "print_json", "read_json"]

# What argparse's add_subparsers() returns; each command group's register() adds its parsers to it.
Subcommands: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"


def data_dir_of(args: argparse.Namespace) -> Path:
    """--data-dir, or $FAPIAO_DESK_DATA, or the user data dir."""
    return Path(args.data_dir) if args.data_dir is not None else default_data_dir()


def open_store_of(args: argparse.Namespace) -> Store:
    """The store of --data-dir, opened (and migrated after a verified backup) for this command."""
    return open_store(args.data_dir)


def print_json(value: Any) -> None:
    json.dump(value, sys.stdout, ensure_ascii=False, indent=2)
    sys.stdout.write("\n")


def read_json(source: str) -> Any:
    """A JSON file (or standard input for "-"), numbers with a fraction kept as text for Decimal."""
    try:
        if source == "-":
            raw = sys.stdin.buffer.read() if hasattr(sys.stdin, "buffer") else sys.stdin.read().encode("utf-8")
        else:
            raw = Path(source).read_bytes()
        text = raw.decode("utf-8-sig")
    except OSError as error:
        raise BadInput(f"json（输入文件）：无法读取文件 {source}（{error.strerror}）",
                       f"json: cannot read {source} ({error.strerror})") from None
    except UnicodeDecodeError:
        raise BadInput(f"json（输入文件）：{source} 不是 UTF-8 文本", f"json: {source} is not UTF-8 text") from None
    try:
        # Keep 12.5 exact: it reaches Decimal as text. An integer too long for int() (4,300 digits) stays text
        # too: the field it is in then refuses it, by name.
        return json.loads(text, parse_float=lambda s: s, parse_int=lambda s: int(s) if len(s) <= 400 else s)
    except json.JSONDecodeError as error:
        raise BadInput(f"json（输入文件）：{source} 不是有效的 JSON：第{error.lineno}行第{error.colno}列 {error.msg}",
                       f"json: {source} is not valid JSON: line {error.lineno} column {error.colno} {error.msg}"
                       ) from None
    except RecursionError:
        raise BadInput(f"json（输入文件）：{source} 嵌套过深", f"json: {source} is nested too deeply") from None
