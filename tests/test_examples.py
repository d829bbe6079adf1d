"""The examples run end to end against the embedded emulator (quick settings)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _run(script: str, *args: str) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HAIQU_")}
    completed = subprocess.run(
        [sys.executable, str(ROOT / "examples" / script), "--quick", *args],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        env=env,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    return completed.stdout


def test_qaoa_maxcut_beats_random_and_picks_an_optimal_cut():
    out = _run("qaoa_maxcut.py")
    expected = float(out.split("expected cut ")[1].split()[0])
    top_cut = int(out.split(" cuts ")[1].split(";")[0])
    optimum = int(out.split("optimum by brute force: ")[1].split()[0])
    assert expected > 4.0 + 1.0  # a random partition cuts half of the 8 edges on average
    assert top_cut == optimum  # the most frequent sample is a maximum cut


def test_parameter_sweep_matches_exact_values(tmp_path):
    out = _run("parameter_sweep.py", "--output", str(tmp_path / "sweep.png"))
    worst = float(out.split("largest deviation from exact: ")[1].split()[0])
    assert worst < 5.0
    assert "shape (2, 9)" in out


def test_vqe_reaches_the_exact_ground_energy():
    out = _run("vqe_h2.py")
    distance = float(out.split("distance from exact: ")[1].split()[0])
    evaluations = int(out.split(" energy evaluations")[0].split()[-1])
    assert distance < 0.01
    assert evaluations > 10  # the optimiser really iterated through the estimator
