"""Poll latency and etiquette: from the emulator marking a job Done to result() returning.

Targets (issues 5 and 6): median <= 100 ms on loopback, while a long job is polled at most
about once per second on average. Run: ``python -m bench.latency [--quick]``.
"""

from __future__ import annotations

import time
from datetime import datetime, timezone

import httpx

from bench._common import bell, median, parse_args, report
from qiskit_haiqu import HaiquClient, HaiquSampler
from qiskit_haiqu.emulator import EmulatorServer, EmulatorSettings


def _latencies(seconds: float, jobs: int) -> list[float]:
    with (
        EmulatorServer(EmulatorSettings(min_job_seconds=seconds)) as server,
        HaiquClient(url=server.url, api_key="bench") as client,
    ):
        sampler = HaiquSampler("aer_simulator", client=client)
        found = []
        for _ in range(jobs):
            job = sampler.run([bell()])
            job.result()
            returned = datetime.now(timezone.utc)
            finished = job.haiqu_jobs()[0].finish_date
            assert finished is not None
            found.append((returned - finished).total_seconds())
        return found


def _polls_per_second(seconds: float) -> tuple[int, float]:
    with (
        EmulatorServer(EmulatorSettings(min_job_seconds=seconds)) as server,
        HaiquClient(url=server.url, api_key="bench") as client,
    ):
        sampler = HaiquSampler("aer_simulator", client=client)
        sampler.run([bell()]).result()  # warm: uploads, device check
        httpx.delete(f"{server.url}/_emulator/requests")
        start = time.perf_counter()
        sampler.run([bell()]).result()
        elapsed = time.perf_counter() - start
        log = httpx.get(f"{server.url}/_emulator/requests").json()
    polls = sum(1 for entry in log if entry["path"].startswith("/jobs/"))
    return polls, polls / elapsed


def main() -> None:
    args = parse_args(__doc__ or "")
    short, count, long = (0.2, 2, 1.0) if args.quick else (0.5, 20, 60.0)
    latencies = _latencies(short, count)
    polls, rate = _polls_per_second(long)
    middle = median(latencies)
    report(
        "poll latency and etiquette",
        [
            (f"{count} jobs of {short} s: median Done -> result()", f"{middle * 1e3:.1f} ms"),
            ("worst", f"{max(latencies) * 1e3:.1f} ms"),
            ("target median <= 100 ms", "met" if middle <= 0.1 else "NOT met"),
            (f"one job of {long:.0f} s: polls", f"{polls} ({rate:.2f} per second)"),
            ("target <= ~1 poll per second", "met" if rate <= 1.05 else "NOT met"),
        ],
    )


if __name__ == "__main__":
    main()
