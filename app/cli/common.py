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

__all__ = [
    "EXIT_BAD_INPUT",
    "EXIT_ERROR",
    "EXIT_OK",
    "BadInput",
    "Subcommands",
    "add_token_options",
    "data_dir_of",
    "open_store_of",
    "print_json",
    "read_json",
    "resolve_token",
]

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
        raise BadInput(f"输入文件：无法读取文件 {source}（{error.strerror}）",
                       f"input file: cannot read {source} ({error.strerror})") from None
    except UnicodeDecodeError:
        raise BadInput(f"输入文件：{source} 不是 UTF-8 文本", f"input file: {source} is not UTF-8 text") from None
    try:
        # Keep 12.5 exact: it reaches Decimal as text. An integer too long for int() (4,300 digits) stays text
        # too: the field it is in then refuses it, by name.
        return json.loads(text, parse_float=lambda s: s, parse_int=lambda s: int(s) if len(s) <= 400 else s)
    except json.JSONDecodeError as error:
        raise BadInput(f"输入文件：{source} 不是有效的 JSON：第{error.lineno}行第{error.colno}列（{error.msg}）",
                       f"input file: {source} is not valid JSON: line {error.lineno} column {error.colno} ({error.msg})"
                       ) from None
    except RecursionError:
        raise BadInput(f"输入文件：{source} 嵌套过深", f"input file: {source} is nested too deeply") from None


def add_token_options(parser: argparse.ArgumentParser) -> None:
    """--token - (standard input) and --token-file FILE: a token typed on the command line shows in the process
    list and the shell's history, so the desk never takes one from its arguments."""
    parser.add_argument("--token", default=None, metavar="-",
                        help="read the bearer token from standard input (default: the one kept for this desk)")
    parser.add_argument("--token-file", default=None, metavar="FILE", help="read the bearer token from FILE")
    parser.set_defaults(desk_token=True)  # resolve_token applies (the reference platform's own --token is not this)


def resolve_token(args: argparse.Namespace) -> str | None:
    """The token --token - or --token-file gave, or None (the desk's own); refuses one given in the arguments."""
    given, path = getattr(args, "token", None), getattr(args, "token_file", None)
    if given is not None and given != "-":
        raise BadInput("平台令牌：令牌不能写在命令行上（进程列表和命令历史中可见）；"
                       "请用 --token - 从标准输入读取，或 --token-file 文件",
                       "platform token: never on the command line, where the process list and the shell history "
                       "show it: use --token - (standard input) or --token-file FILE")
    if given == "-":
        line = sys.stdin.readline()
        if not line.strip():
            raise BadInput("平台令牌：标准输入中没有令牌", "platform token: standard input holds no token")
        return line.strip()
    if path is not None:
        try:
            text = Path(path).read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError) as error:
            raise BadInput(f"令牌文件：无法读取 {path}（{error}）",
                           f"token file: cannot read {path} ({error})") from None
        if not text:
            raise BadInput(f"令牌文件：{path} 是空的", f"token file: {path} is empty")
        return text.splitlines()[0].strip()
    return None
