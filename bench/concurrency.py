"""Concurrency: many jobs in flight from one client finish in about the longest job's time.

Target (issue 6): 50 jobs in flight from one client, total wall time close to the longest job,
not the sum. Run: ``python -m bench.concurrency [--quick]``.
"""

from __future__ import annotations

import time

from qiskit.circuit import QuantumCircuit

from bench._common import parse_args, report
from qiskit_haiqu import HaiquClient, HaiquSampler
from qiskit_haiqu.emulator import EmulatorServer, EmulatorSettings


def main() -> None:
    args = parse_args(__doc__ or "")
    jobs, seconds = (5, 0.2) if args.quick else (50, 2.0)
    qc = QuantumCircuit(2)
    qc.h(0)
    qc.cx(0, 1)
    qc.measure_all()
    settings = EmulatorSettings(min_job_seconds=seconds, max_workers=jobs)
    with (
        EmulatorServer(settings) as server,
        HaiquClient(url=server.url, api_key="bench") as client,
    ):
        sampler = HaiquSampler("aer_simulator", client=client)
        sampler.run([qc]).result()  # warm: uploads, device check
        start = time.perf_counter()
        handles = [sampler.run([qc], shots=100) for _ in range(jobs)]
        results = [job.result() for job in handles]
        wall = time.perf_counter() - start
    assert all(sum(r[0].data.meas.get_counts().values()) == 100 for r in results)
    report(
        f"concurrency: {jobs} jobs of {seconds} s in flight from one client",
        [
            ("total wall time", f"{wall:.2f} s"),
            ("longest job", f"{seconds:.2f} s"),
            ("sum of the jobs", f"{jobs * seconds:.1f} s"),
            ("wall / longest (close to 1 is the target)", f"{wall / seconds:.2f}"),
        ],
    )


if __name__ == "__main__":
    main()
