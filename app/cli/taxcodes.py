"""Command line for the tax classification table (商品和服务税收分类编码表):

    taxcodes show CODE [--json]                     one code, every field; exit 2 for a code the table lacks
    taxcodes search TEXT [--limit N] [--all] [--json]
                                                    by code prefix, words, or pinyin initials (rjkf), best first
    taxcodes refresh [--url URL] [--token T] [--timeout S] [--clerk C] [--json]
                                                    take the platform's newer table; exit 1 when it cannot be reached

app/cli/__init__.py registers these parsers, each with its handler.
"""

from __future__ import annotations

import argparse
import sys
from decimal import Decimal, InvalidOperation

from app.cli.common import EXIT_ERROR, EXIT_OK, BadInput, Subcommands, add_token_options, open_store_of, print_json
from app.core.tax import find_rate
from app.core.taxcodes import CODE_LENGTH, POLICY_BY_FLAG
from app.platform.client import PlatformError, Unauthorized
from app.services.settings import make_client, platform_url
from app.services.taxcodes import TaxCodeRefresh, refresh_from_platform
from app.store.taxcode_search import DEFAULT_LIMIT, TaxCodeHit, get_code, search_codes

MAX_LIMIT = 1000


def rate_label(code: str) -> str:
    """'0.13' -> '13%', '0.015' -> '1.5%'."""
    rate = find_rate(code)
    if rate is not None:
        return rate.label_zh
    try:
        return f"{(Decimal(code) * 100).normalize():f}%"
    except InvalidOperation:
        return code


def _policy_names(hit: TaxCodeHit) -> list[str]:
    return [POLICY_BY_FLAG[flag].name if flag in POLICY_BY_FLAG else "?" for flag in hit.policies]


def hit_to_json(hit: TaxCodeHit) -> dict[str, object]:
    return {"code": hit.code, "name": hit.name, "short_name": hit.short_name, "rates": list(hit.rates),
            "rate_labels": [rate_label(r) for r in hit.rates],
            "policies": [{"flag": f, "name": n} for f, n in zip(hit.policies, _policy_names(hit), strict=True)],
            "summary": hit.summary, "usable": hit.usable, "allowed_on_a_line": hit.allowed_on_a_line,
            "parent": hit.parent, "keywords": hit.keywords, "explanation": hit.explanation, "version": hit.version}


def _flags(hit: TaxCodeHit) -> str:
    flags = []
    if hit.summary:
        flags.append("汇总项 summary")
    if not hit.usable:
        flags.append("已停用 withdrawn")
    return "，".join(flags)


def _yes_no(value: bool) -> str:
    return "是 (yes)" if value else "否 (no)"


def cmd_show(args: argparse.Namespace) -> int:
    code = args.code.strip()
    if not (len(code) == CODE_LENGTH and code.isascii() and code.isdigit()):
        raise BadInput(f"code（税收分类编码）：“{code}”不是19位数字", f"code: {code!r} is not 19 digits")
    open_store_of(args)
    hit = get_code(code)
    if hit is None:
        raise BadInput(f"code（税收分类编码）：编码表中没有 {code}"
                       "（可用 `taxcodes search` 查找，或 `taxcodes refresh` 更新）",
                       f"code: the table has no {code} (find one with `taxcodes search`, or `taxcodes refresh`)")
    if args.json:
        print_json(hit_to_json(hit))
        return EXIT_OK
    parent = get_code(hit.parent) if hit.parent else None
    policies = "、".join(f"{f} {n}" for f, n in zip(hit.policies, _policy_names(hit), strict=True))
    print(f"{hit.code}  {hit.name}")
    print(f"简称 (short name): {hit.short_name}  → 开票名称 *{hit.short_name}*项目名称")
    print(f"税率 (rates): {'、'.join(rate_label(r) for r in hit.rates) or '无 (none)'}")
    print(f"优惠政策 (policies): {policies or '无 (none)'}")
    print(f"汇总项 (summary): {_yes_no(hit.summary)}  可用 (usable): {_yes_no(hit.usable)}  "
          f"可用于发票行 (allowed on a line): {_yes_no(hit.allowed_on_a_line)}")
    if hit.parent:
        print(f"上级 (parent): {hit.parent} {parent.name if parent else ''}".rstrip())
    print(f"关键字 (keywords): {hit.keywords or '-'}")
    print(f"说明 (explanation): {hit.explanation or '-'}")
    print(f"版本 (version): {hit.version or '-'}")
    return EXIT_OK


def cmd_search(args: argparse.Namespace) -> int:
    text = " ".join(args.text.split())
    if not text:
        raise BadInput("text（查询内容）：不能为空", "text: is required")
    if not 1 <= args.limit <= MAX_LIMIT:
        raise BadInput(f"limit（条数）：应为 1 至 {MAX_LIMIT}", f"limit: must be 1 to {MAX_LIMIT}")
    open_store_of(args)
    hits = search_codes(text, limit=args.limit, include_unusable=args.all, leaves_only=not args.all)
    if args.json:
        print_json([hit_to_json(hit) for hit in hits])
        return EXIT_OK
    if not hits:
        print(f"没有找到“{text}”的编码 (no code matches {text!r})", file=sys.stderr)
        return EXIT_OK
    for hit in hits:
        rates = "、".join(rate_label(r) for r in hit.rates) or "-"
        print("\t".join(part for part in (hit.code, f"*{hit.short_name}*", hit.name, rates, _flags(hit)) if part))
    return EXIT_OK


def _refresh_json(result: TaxCodeRefresh) -> dict[str, object]:
    return {"version": result.version, "previous": result.previous, "added": result.added,
            "changed": result.changed, "withdrawn": result.withdrawn, "items_flagged": result.items_flagged}


def cmd_refresh(args: argparse.Namespace) -> int:
    open_store_of(args)
    url = args.url or platform_url()
    try:
        client = make_client(url, args.token, timeout=args.timeout)
    except ValueError:
        raise BadInput(f"url（平台地址）：“{url}”不是有效的 http(s) 地址",
                       f"url: {url!r} is not an http(s) URL") from None
    try:
        result = refresh_from_platform(client, clerk=args.clerk or "")
    except Unauthorized as error:
        print(f"平台拒绝了令牌，编码表未更新：{error}", file=sys.stderr)
        return EXIT_ERROR
    except PlatformError as error:
        print(f"无法从平台取得税收分类编码表，编码表未更新 (could not get the table from {client.base_url}; "
              f"nothing changed)：{error}", file=sys.stderr)
        return EXIT_ERROR
    finally:
        client.close()
    if args.json:
        print_json(_refresh_json(result))
        return EXIT_OK
    if result.version == result.previous and not (result.added or result.changed or result.withdrawn):
        print(f"税收分类编码表已是最新：{result.version} (the table is up to date: {result.version})")
        return EXIT_OK
    print(f"税收分类编码表已更新到 {result.version}（原 {result.previous or '-'}）：新增 {result.added}，"
          f"变更 {result.changed}，停用 {result.withdrawn} (table now {result.version}, was "
          f"{result.previous or '-'}: {result.added} added, {result.changed} changed, {result.withdrawn} withdrawn)")
    if result.items_flagged:
        print(f"以下 {len(result.items_flagged)} 个项目使用了已停用的编码，请更换编码 "
              f"(these catalog items use a withdrawn code; give them another):")
        for name in result.items_flagged:
            print(f"  {name}")
    return EXIT_OK


def register(commands: Subcommands) -> None:
    """The parsers of this group, each with its handler."""
    taxcodes = commands.add_parser("taxcodes", help="the tax classification table (税收分类编码)")
    actions = taxcodes.add_subparsers(dest="subcommand", metavar="ACTION", required=True)

    show = actions.add_parser("show", help="one code, every field")
    show.set_defaults(handler=cmd_show)
    show.add_argument("code")
    show.add_argument("--json", action="store_true")

    search = actions.add_parser("search", help="find codes by code prefix, words or pinyin initials")
    search.set_defaults(handler=cmd_search)
    search.add_argument("text")
    search.add_argument("--limit", type=int, default=DEFAULT_LIMIT)
    search.add_argument("--all", action="store_true", help="summary rows and withdrawn codes too")
    search.add_argument("--json", action="store_true")

    refresh = actions.add_parser("refresh", help="take the platform's newer table (GET /v2/tax-codes)")
    refresh.set_defaults(handler=cmd_refresh)
    refresh.add_argument("--url", default=None, help="the platform (default: the setting)")
    add_token_options(refresh)
    refresh.add_argument("--timeout", type=float, default=15.0, help="seconds to wait for the platform")
    refresh.add_argument("--clerk", default=None)
    refresh.add_argument("--json", action="store_true")
