"""Make something once per test run, however many pytest-xdist workers ask for it.

A session-scoped fixture is made once per worker; a build that costs seconds of CPU (the
docs, the release artefacts) would be made by every worker that runs one of its tests. Here
the first worker makes it under a lock in the run's shared temporary directory; the others
wait for it and read what it left.
"""

from __future__ import annotations

import fcntl
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    with path.open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def once_per_run(
    factory: pytest.TempPathFactory,
    worker_id: str,
    name: str,
    make: Callable[[Path], dict[str, Any]],
) -> tuple[Path, dict[str, Any]]:
    """``make(directory)``'s JSON-able record, made in ``directory`` once in this run.

    Returns the directory and the record; every worker gets the same ones.
    """
    if worker_id == "master":  # no xdist: this process is the whole run
        directory = factory.mktemp(name)
        return directory, make(directory)
    shared = factory.getbasetemp().parent  # the run's directory, above each worker's own
    directory = shared / name
    record = shared / f"{name}.json"
    with _locked(shared / f"{name}.lock"):
        if not record.exists():
            directory.mkdir()
            record.write_text(json.dumps(make(directory)), encoding="utf-8")
    return directory, json.loads(record.read_text(encoding="utf-8"))
