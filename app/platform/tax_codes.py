"""The reference platform's tax classification table: the shipped one, or a file given with --tax-codes.

A file is the official table's CSV (columns BB, SPBM, SPMC, ...). The platform checks every
invoice line against it and serves it at `GET /v2/tax-codes?since=VERSION`:

- its version is the highest BB of the file;
- no `since`: the whole table in `codes` (app.core.taxcodes.code_to_wire), `withdrawn: []`
  (a desk with no table has nothing to withdraw; unusable codes come with `usable: false`);
- `since` equal to its version: `{"version": V, "codes": [], "withdrawn": []}`, nothing changed;
- any other `since` (older, or one it does not know): every code of its table in `codes`, and in
  `withdrawn` the codes whose KYZT is N (no longer usable), so a desk on an older table marks them.

The reference platform keeps no history of tables, so it never sends a true difference; a desk
must accept both forms (the whole table, or only what changed). To stage a newer table, start it
with `--tax-codes FILE` (PlatformServer(tax_codes=FILE)) where FILE has a higher BB, new rows, and
KYZT=N on the rows withdrawn; or set `server.httpd.tax_codes = PlatformTaxCodes(FILE)` while it runs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from app.base.resources import TAX_CODE_TABLE_VERSION, read_tax_code_rows
from app.core.taxcodes import TaxCode, code_to_wire, codes_from_table


class PlatformTaxCodes:
    def __init__(self, path: Path | None = None) -> None:
        codes = codes_from_table(read_tax_code_rows(path))
        self.codes: dict[str, TaxCode] = {code.code: code for code in codes}
        versions = {code.version for code in codes if code.version}
        self.version = max(versions, key=_version_key) if versions else TAX_CODE_TABLE_VERSION
        # Built once: the answer is the same for every desk that asks.
        self._wire: list[dict[str, object]] = [code_to_wire(code) for code in self.codes.values()]
        self.withdrawn: list[str] = [code.code for code in self.codes.values() if not code.usable]

    def get(self, code: str, /) -> TaxCode | None:
        return self.codes.get(code)

    def answer(self, since: str | None) -> dict[str, Any]:
        """The body of `GET /v2/tax-codes?since=...` (see the module docstring)."""
        if since == self.version:
            return {"version": self.version, "codes": [], "withdrawn": []}
        return {"version": self.version, "codes": self._wire, "withdrawn": self.withdrawn if since else []}


def _version_key(version: str) -> tuple[int, ...]:
    try:
        return tuple(int(part) for part in version.split("."))
    except ValueError:
        return (0,)
