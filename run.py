#!/usr/bin/env python3
"""Set up and run Fapiao Desk from a checkout, with nothing but Python 3.11.

    python3 run.py app [ARGS...]    the desktop app (or any CLI command: run.py app list)
    python3 run.py test [ARGS...]   the whole test suite (arguments go to pytest)

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
    digest = hashlib.sha256("\n".join([sys.version] + wanted).encode()).hexdigest()
    python = venv_python()
    if python.exists() and STAMP.exists() and STAMP.read_text().split() == [digest]:
        return python
    if python.exists():
        # Dependencies changed: start from a clean environment, so no package that was
        # dropped or replaced lingers in it (pip's cache makes this quick).
        print("fapiao-desk: dependencies changed, rebuilding .venv ...", file=sys.stderr)
        shutil.rmtree(VENV)
    print("fapiao-desk: creating the environment in .venv ...", file=sys.stderr)
    subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
    print("fapiao-desk: installing dependencies ...", file=sys.stderr)
    subprocess.run([str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", *wanted],
                   check=True)
    STAMP.write_text(digest)
    return python


def main(argv: list[str]) -> int:
    if sys.version_info < (3, 11):
        sys.exit("fapiao-desk needs Python 3.11 or newer")
    if not argv or argv[0] not in ("app", "test"):
        print(__doc__, file=sys.stderr)
        return 2
    command, rest = argv[0], argv[1:]
    # The test environment is a superset of the app's, so one .venv serves both.
    python = ensure_environment(["test"])
    if command == "app":
        args = [str(python), "-m", "app", *rest]
    else:
        args = [str(python), "-m", "pytest", *rest]
    return subprocess.call(args, cwd=ROOT)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
