"""Each benchmark script runs in --quick mode (kept working; no timing is asserted)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from bench.__main__ import SCRIPTS

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("name", SCRIPTS)
def test_benchmark_runs_quick(name):
    completed = subprocess.run(
        [sys.executable, "-m", f"bench.{name}", "--quick", "--repeat", "1"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert "==" in completed.stdout  # it printed its report
