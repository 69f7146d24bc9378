"""The invoice form fits the screen a clerk has, 1366×768 and 1080p at 150 % included: it scrolls, and 开具 and
关闭 stay on screen. Each screen is the offscreen platform's, configured for a process of its own; the screenshots
go to build/screenshots (or $DESK_SHOTS)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers.cli import ROOT
from tests.ui.form_helpers import SHOTS

SCREENS = Path(__file__).resolve().parent / "screens"


@pytest.mark.parametrize("screen", ["laptop-1366x768", "desktop-1080p-150", "desktop-1080p"])
def test_the_form_and_its_buttons_are_on_screen(tmp_path: Path, screen: str):
    SHOTS.mkdir(parents=True, exist_ok=True)
    shot = SHOTS / f"invoice_form_{screen}.png"
    env = {**os.environ, "QT_QPA_PLATFORM": f"offscreen:configfile={SCREENS / (screen + '.json')}",
           "PYTHONIOENCODING": "utf-8"}
    done = subprocess.run([sys.executable, "-m", "tests.ui.fit_probe", str(tmp_path / "data"), str(shot)], env=env,
                          cwd=ROOT, capture_output=True, text=True, encoding="utf-8", timeout=180)
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    sx, sy, sw, sh = seen["screen"]
    _, _, fw, fh = seen["form"]
    assert fw <= sw and fh <= sh, seen  # the whole window, frame included, fits
    for button in ("issue", "close"):
        bx, by, bw, bh = seen[button]
        assert sx <= bx and bx + bw <= sx + sw and sy <= by and by + bh <= sy + sh, (button, seen)
    assert seen["issue_visible"]
    assert shot.stat().st_size > 10_000
