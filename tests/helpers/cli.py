"""The real command line in a child process, as a clerk or a script would run it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def run_cli(data_dir: Path, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONIOENCODING": "utf-8"}
    return subprocess.run([sys.executable, "-m", "app", "--data-dir", str(data_dir), *args], input=stdin,
                          capture_output=True, text=True, encoding="utf-8", cwd=ROOT, env=env, timeout=120)


def token_file_args(token: str) -> tuple[str, str]:
    """`--token-file FILE` for a desk command: the token in a file of its own (the desk never takes a token from
    its arguments, where the process list shows it)."""
    import hashlib
    import tempfile

    path = Path(tempfile.gettempdir()) / f"fapiao-test-token-{hashlib.sha256(token.encode()).hexdigest()[:16]}"
    if not path.exists():
        path.write_text(token + "\n", encoding="utf-8")
    return "--token-file", str(path)
