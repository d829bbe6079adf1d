"""Each benchmark script runs in --quick mode (kept working; no timing is asserted).

The scripts run in this process, as ``python -m bench`` runs them all in one: a new
interpreter for each would spend most of its smoke run importing Qiskit again.
"""

from __future__ import annotations

import runpy
import sys

import pytest

from bench.__main__ import SCRIPTS


@pytest.mark.parametrize("name", SCRIPTS)
def test_benchmark_runs_quick(name, monkeypatch, capsys):
    monkeypatch.setattr(sys, "argv", [f"bench/{name}.py", "--quick", "--repeat", "1"])
    runpy.run_module(f"bench.{name}", run_name="__main__", alter_sys=True)
    out = capsys.readouterr().out
    assert "==" in out  # it printed its report
