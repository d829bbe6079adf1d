"""Run every benchmark: ``python -m bench [--quick]``; the targets table of issue 14 ends it."""

from __future__ import annotations

import runpy
import sys

from bench._common import TARGETS, print_targets

SCRIPTS = [
    "decoding",
    "encoding",
    "fingerprint",
    "big_results",
    "recovery",
    "sharing",
    "retention",
    "vqe",
    "client_cpu",
    "latency",
    "concurrency",
    "throughput",
]


def main() -> None:
    """Run each script in turn with the same arguments, then print every target they measured."""
    for name in SCRIPTS:
        print(f"\n##### bench.{name}", flush=True)
        runpy.run_module(f"bench.{name}", run_name="__main__")
    print_targets(TARGETS, "issue 14 targets (each measured in this run)")
    print(
        "(`python -m pytest` on 2 cores <= 90 s: not measured here; the bench does not run the "
        "suite)"
    )


if __name__ == "__main__":
    main()
    sys.exit(0)
