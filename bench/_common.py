"""Shared helpers of the benchmark scripts: argument parsing, timing, printing, and targets.

Each script records its issue-14 targets with :func:`record` (a :class:`Target`: what,
measured, target, met); ``python -m bench`` runs every script in one process and prints all
of them at the end in one table (:func:`print_targets`).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from qiskit.circuit import QuantumCircuit


@dataclass(frozen=True)
class Target:
    """One row of the targets table: a figure measured in this run beside its target."""

    what: str
    measured: str
    target: str
    met: bool


TARGETS: list[Target] = []
"""Every target recorded in this process, in order (``python -m bench`` prints them)."""


def record(what: str, measured: str, target: str, met: bool) -> Target:
    """Record (and return) one measured target."""
    row = Target(what, measured, target, bool(met))
    TARGETS.append(row)
    return row


def print_targets(rows: list[Target], title: str = "targets") -> None:
    """Print ``rows`` as a table: what | measured | target | met."""
    names = ("what", "measured", "target", "met")
    cells = [(r.what, r.measured, r.target, "yes" if r.met else "no") for r in rows]
    widths = [max(len(cell[i]) for cell in [names, *cells]) for i in range(len(names))]
    print(f"\n== {title}")
    for cell in [names, tuple("-" * w for w in widths), *cells]:
        print("| " + " | ".join(c.ljust(w) for c, w in zip(cell, widths, strict=True)) + " |")


def report_targets(rows: list[Target]) -> None:
    """Print a script's own targets (``python -m bench`` prints them all again at the end)."""
    if rows:
        print_targets(rows, "targets")


def parse_args(description: str) -> argparse.Namespace:
    """Parse ``--quick`` (small sizes, for the test-suite) and ``--repeat``."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--quick", action="store_true", help="small sizes, a smoke run")
    parser.add_argument("--repeat", type=int, default=3, help="repetitions (best is kept)")
    return parser.parse_args()


def best_of(func: Callable[[], object], repeat: int) -> float:
    """The fastest wall time of ``repeat`` calls of ``func``, in seconds."""
    times = []
    for _ in range(max(1, repeat)):
        start = time.perf_counter()
        func()
        times.append(time.perf_counter() - start)
    return min(times)


def median(values: list[float]) -> float:
    """The median of ``values``."""
    return statistics.median(values)


def report(title: str, rows: list[tuple[str, str]]) -> None:
    """Print a titled two-column table."""
    print(f"\n== {title}")
    width = max(len(name) for name, _ in rows)
    for name, value in rows:
        print(f"  {name.ljust(width)}  {value}")


_SERVE = """
import json, sys
from qiskit_haiqu.emulator import EmulatorServer, EmulatorSettings
server = EmulatorServer(EmulatorSettings(**json.loads(sys.argv[1]))).start()
print(server.url, flush=True)
sys.stdin.read()  # serve until the parent closes our stdin
server.stop()
"""


@contextlib.contextmanager
def emulator_process(*, smoke: bool = False, **settings: Any) -> Iterator[str]:
    """The emulator in its own process (as a real service is), yielding its URL.

    A smoke run (``smoke``, the scripts' ``--quick``) serves it from a thread of this process
    instead: its figures are not measurements, and a new interpreter would double its time.
    """
    if smoke:
        # Imported here: the benches that never serve (decoding, encoding) need no Aer.
        from qiskit_haiqu.emulator import EmulatorServer, EmulatorSettings

        with EmulatorServer(EmulatorSettings(**settings)) as server:
            yield server.url
        return
    process = subprocess.Popen(
        [sys.executable, "-c", _SERVE, json.dumps(settings)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        url = process.stdout.readline().strip()
        if not url.startswith("http"):
            raise RuntimeError("the emulator process did not start")
        yield url
    finally:
        if process.stdin is not None:
            process.stdin.close()
        process.wait(timeout=30)


def bell() -> QuantumCircuit:
    """A measured 2-qubit Bell circuit: the small job of the latency and memory benches."""
    circuit = QuantumCircuit(2)
    circuit.h(0)
    circuit.cx(0, 1)
    circuit.measure_all()
    return circuit
