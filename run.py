#!/usr/bin/env python3
"""Set up and run Fapiao Desk from a checkout, with nothing but Python 3.11.

    python3 run.py app [ARGS...]    the desktop app (or any CLI command: run.py app list)
    python3 run.py test [ARGS...]   the whole test suite (arguments go to pytest)
    python3 run.py check            lint (ruff), types (mypy) and layers (import-linter), as CI runs them

On first use it creates .venv/ beside this file and installs the dependencies named
in pyproject.toml into it; later runs reuse it and work offline. When pyproject.toml
changes, the environment is brought up to date on the next run.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
STAMP = VENV / "fapiao-desk.stamp"


def venv_python() -> Path:
    if os.name == "nt":
        return VENV / "Scripts" / "python.exe"
    return VENV / "bin" / "python"


def requirements(extras: list[str]) -> list[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    wanted = list(project["dependencies"])
    for extra in extras:
        wanted += project["optional-dependencies"][extra]
    return wanted


def ensure_environment(extras: list[str]) -> Path:
    wanted = requirements(extras)
    digest = hashlib.sha256("\n".join([sys.version, *wanted]).encode()).hexdigest()
    python = venv_python()
    if python.exists() and STAMP.exists() and STAMP.read_text().split() == [digest]:
        return python
    if python.exists():
        # Dependencies changed: start from a clean environment, so no package that was
        # dropped or replaced lingers in it (pip's cache makes this quick).
        print("fapiao-desk: dependencies changed, rebuilding .venv ...", file=sys.stderr)
        shutil.rmtree(VENV)
    print("fapiao-desk: creating the environment in .venv ...", file=sys.stderr)
    # Run from inside .venv itself (.venv/bin/python run.py ...), the interpreter just removed cannot make
    # the new one: the base interpreter behind it can.
    base = getattr(sys, "_base_executable", sys.executable) if sys.prefix != sys.base_prefix else sys.executable
    subprocess.run([base, "-m", "venv", str(VENV)], check=True)
    print("fapiao-desk: installing dependencies ...", file=sys.stderr)
    subprocess.run([str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", *wanted],
                   check=True)
    STAMP.write_text(digest)
    return python


# The printing tests read PDFs back with poppler's command-line tools (text with positions, fonts,
# pages as images); pip cannot install them.
POPPLER_TOOLS = ("pdftotext", "pdffonts", "pdftoppm")


def missing_system_tools() -> list[str]:
    return [tool for tool in POPPLER_TOOLS if shutil.which(tool) is None]


def run_checks(python: Path) -> int:
    """ruff, mypy and import-linter, each over the whole project; every one runs, the first failure is returned."""
    bin_dir = python.parent
    steps = [
        ("ruff (lint)", [str(python), "-m", "ruff", "check", "app", "tests", "run.py"]),
        ("mypy (types)", [str(python), "-m", "mypy"]),
        ("import-linter (layers)", [str(bin_dir / ("lint-imports.exe" if os.name == "nt" else "lint-imports"))]),
    ]
    status = 0
    for name, args in steps:
        print(f"fapiao-desk: {name} ...", file=sys.stderr, flush=True)
        result = subprocess.call(args, cwd=ROOT)
        if result != 0:
            print(f"fapiao-desk: {name} failed", file=sys.stderr)
            status = status or result
    return status


def main(argv: list[str]) -> int:
    if sys.version_info < (3, 11):  # noqa: UP036  (run.py must say so under an older Python)
        sys.exit("fapiao-desk needs Python 3.11 or newer")
    if not argv or argv[0] not in ("app", "test", "check"):
        print(__doc__, file=sys.stderr)
        return 2
    command, rest = argv[0], argv[1:]
    # The test environment is a superset of the app's, so one .venv serves both.
    python = ensure_environment(["test"])
    if command == "check":
        return run_checks(python)
    if command == "app":
        args = [str(python), "-m", "app", *rest]
    else:
        missing = missing_system_tools()
        if missing:
            print(f"fapiao-desk: the printing tests need poppler's {', '.join(missing)}, which pip cannot install.\n"
                  "  Debian/Ubuntu: apt-get install poppler-utils   (CI's .ci/run installs it)\n"
                  "  Windows: install poppler (e.g. the conda-forge or scoop package) and put its bin folder on PATH",
                  file=sys.stderr)
            return 2
        args = [str(python), "-m", "pytest", *rest]
    return subprocess.call(args, cwd=ROOT)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
