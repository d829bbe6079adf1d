"""Run every benchmark: ``python -m bench [--quick]``."""

from __future__ import annotations

import runpy
import sys

SCRIPTS = [
    "decoding",
    "encoding",
    "fingerprint",
    "big_results",
    "vqe",
    "latency",
    "concurrency",
    "throughput",
]


def main() -> None:
    """Run each script in turn with the same arguments."""
    for name in SCRIPTS:
        print(f"\n##### bench.{name}", flush=True)
        runpy.run_module(f"bench.{name}", run_name="__main__")


if __name__ == "__main__":
    main()
    sys.exit(0)
