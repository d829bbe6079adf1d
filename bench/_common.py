"""Shared helpers of the benchmark scripts: argument parsing, timing and printing."""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable


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
