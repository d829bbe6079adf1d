"""The package's public surface and its layer rules."""

from __future__ import annotations

import inspect
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import qiskit_haiqu
from qiskit_haiqu import errors

ROOT = Path(__file__).resolve().parents[1]


def test_all_is_sorted_and_complete():
    names = qiskit_haiqu.__all__
    assert names == sorted(names)
    for name in names:
        assert hasattr(qiskit_haiqu, name), name
    error_classes = {
        name
        for name, obj in inspect.getmembers(errors, inspect.isclass)
        if issubclass(obj, errors.HaiquError)
    }
    assert error_classes <= set(names)
    for primitive in ("HaiquSampler", "HaiquEstimator", "HaiquJob", "HaiquClient"):
        assert primitive in names


def test_errors_are_catchable_as_qiskit_and_builtin_types():
    from qiskit.providers import JobError
    from qiskit.providers import JobTimeoutError as QiskitJobTimeoutError

    assert issubclass(errors.HaiquInputError, ValueError)
    assert issubclass(errors.JobFailedError, JobError)
    assert issubclass(errors.JobTimeoutError, QiskitJobTimeoutError)
    assert str(errors.HaiquInputError("plain text")) == "plain text"


def test_layers_are_respected():
    """import-linter checks the contracts written in pyproject.toml."""
    executable = shutil.which("lint-imports") or str(Path(sys.executable).with_name("lint-imports"))
    if not Path(executable).exists():
        pytest.fail("lint-imports is not installed; install the dev extra")
    completed = subprocess.run(
        [executable, str(ROOT / "pyproject.toml")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
