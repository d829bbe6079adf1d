"""Emulator memory over many small runs: bounded by its retention limit.

Target (issue 14): the emulator's memory stays bounded over 10,000 small runs (it keeps
``max_finished_jobs`` finished jobs, 1,000 by default, and forgets older ones). The runs go
from a ``HaiquClient`` to the emulator's app in this very process (an ASGI transport: the
``HAIQU_API_URL=local`` situation, where the emulator lives in the user's process), and the
process's Python heap (``tracemalloc``) and resident memory are read after every tenth of
the runs. The reference is the same loop with retention off (``max_finished_jobs=0``, every
job kept) over a tenth of the runs: its heap growth per run is what the limit saves.
Bounded: over the second half of the runs the heap grows by less than 5 % of what keeping
every job costs.
Run: ``python -m bench.retention [--quick]``.
"""

from __future__ import annotations

import gc
import resource
import time
import tracemalloc
import warnings
from concurrent.futures import ThreadPoolExecutor

with warnings.catch_warnings():  # starlette would rather use httpx2; httpx is what we have
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

from bench._common import bell, parse_args, record, report, report_targets
from qiskit_haiqu import HaiquClient, HaiquSampler
from qiskit_haiqu.api.models import RunJob, RunSubmit
from qiskit_haiqu.emulator import EmulatorSettings
from qiskit_haiqu.emulator.app import create_app

THREADS = 2
LOGGED = 1_000  # the request log's bound (10,000 by default: it would fill only at the end)
URL = "http://127.0.0.1"  # any loopback URL: the ASGI transport never opens a socket
FINAL = {"Done", "Error", "Cancelled"}


def memory() -> tuple[int, int]:
    """This process's Python heap (``tracemalloc``) and resident memory, bytes, after a
    garbage collection."""
    gc.collect()
    with open("/proc/self/statm") as handle:
        resident = int(handle.read().split()[1]) * resource.getpagesize()
    return tracemalloc.get_traced_memory()[0], resident


def memory_curve(
    runs: int, checkpoints: int, keep: int
) -> tuple[list[tuple[int, int, int]], int, float, list[str]]:
    """``runs`` small runs against an in-process emulator keeping ``keep`` finished jobs
    (0: all): ``(runs done, Python heap, RSS)`` at each checkpoint (every job submitted so
    far finished), the jobs it holds at the end, the wall time, and where the heap grew in
    the second half (the four lines that allocated most).

    The runs are submitted with ``HaiquClient.submit_run`` (the primitive's own call) from
    ``THREADS`` threads; the primitive's polling is left out, it costs client time only.
    """
    app = create_app(EmulatorSettings(max_finished_jobs=keep, max_logged_requests=LOGGED))
    with (
        TestClient(app, base_url=URL) as http,
        HaiquClient(url=URL, api_key="bench", http_client=http) as client,
        ThreadPoolExecutor(THREADS) as pool,
    ):
        sampler = HaiquSampler("aer_simulator", client=client)
        job = sampler.run([bell()], shots=100)  # experiment, upload, device check
        job.result()
        first = job.haiqu_jobs()[0]
        if not isinstance(first, RunJob):
            raise RuntimeError(f"the set-up job came back as {type(first).__name__}")
        body = RunSubmit(
            experiment_id=first.experiment_id,
            circuit_ids=first.circuit_ids,
            shots=100,
            device_id="aer_simulator",
        )

        def submit(_: int) -> str:
            return client.submit_run(body).id

        tracemalloc.start()
        curve = [(0, *memory())]
        snapshots = []
        step = runs // checkpoints
        start = time.perf_counter()
        for done in range(step, runs + 1, step):
            ids = list(pool.map(submit, range(step)))
            while any(client.get_job(i).status not in FINAL for i in ids[-2 * THREADS :]):
                time.sleep(0.01)
            curve.append((done, *memory()))
            if done in (runs // 2, runs):
                snapshots.append(tracemalloc.take_snapshot())
        seconds = time.perf_counter() - start
        tracemalloc.stop()
        held = app.state.store.job_count()
    growth = snapshots[1].compare_to(snapshots[0], "lineno")[:4] if len(snapshots) == 2 else []
    sources = [
        f"{frame.filename.rsplit('/', 2)[-1]}:{frame.lineno} {stat.size_diff / 1e3:+.0f} KB"
        for stat in growth
        for frame in [stat.traceback[0]]
    ]
    return curve, held, seconds, sources


def main() -> None:
    args = parse_args(__doc__ or "")
    runs = 40 if args.quick else 10_000
    limit = 10 if args.quick else EmulatorSettings().max_finished_jobs
    reference_runs = max(runs // 10, 10)
    checkpoints = 4 if args.quick else 10  # each reads memory after a full garbage collection
    curve, held, seconds, sources = memory_curve(runs, checkpoints, limit)
    ref_curve, ref_held, _, _ = memory_curve(reference_runs, 2, 0)
    kept_per_run = (ref_curve[-1][1] - ref_curve[0][1]) / reference_runs
    half = curve[len(curve) // 2]
    first_half = half[1] - curve[0][1]
    second_half = curve[-1][1] - half[1]
    per_run = second_half / (runs - half[0])
    mb = 1e6
    rows = [
        (
            f"after {done:>6} runs",
            f"heap {(heap - curve[0][1]) / mb:+7.2f} MB, RSS {(res - curve[0][2]) / mb:+7.1f} MB",
        )
        for done, heap, res in curve
    ]
    report(
        f"emulator memory over {runs} small runs, in-process (ASGI), {THREADS} threads",
        [
            *rows,
            (f"jobs held at the end (max_finished_jobs={limit})", str(held)),
            ("heap growth, second half, by line", "; ".join(sources)),
            ("runs per second (tracemalloc on)", f"{runs / seconds:.0f}"),
            (
                f"reference: every job kept, {reference_runs} runs",
                f"heap {(ref_curve[-1][1] - ref_curve[0][1]) / mb:+.2f} MB, {ref_held} jobs "
                f"held, {kept_per_run / 1e3:.1f} KB/run",
            ),
        ],
    )
    bounded = held <= limit + 2 * THREADS and per_run < 0.05 * kept_per_run
    report_targets(
        [
            record(
                f"emulator memory over {runs:,} small runs (keeps {limit} jobs, {LOGGED} "
                "logged requests)",
                f"heap {first_half / mb:+.1f} MB to run {half[0]:,}, {second_half / mb:+.2f} MB "
                f"to {runs:,} ({per_run / 1e3:.2f} KB/run; every job kept: "
                f"{kept_per_run / 1e3:.1f} KB/run)",
                "bounded: < 5 % of keeping all",
                bounded,
            )
        ]
    )


if __name__ == "__main__":
    main()
