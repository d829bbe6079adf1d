"""Many threads sharing one primitive: uploads, experiment inits and races, counted by the service.

Target (issue 14): 16 threads sharing one fresh ``HaiquSampler`` with 5 distinct circuits
make 5 ``POST /circuits``, 1 ``POST /experiments/init`` and raise nothing (no race on the
primitive's caches), under a short thread switch interval (``sys.setswitchinterval``) that
provokes races. The emulator (in its own process) counts the requests in its log; each round
uses a new experiment name, so every round starts from nothing. The needed counts (5 and 1)
are the reference. Run: ``python -m bench.sharing [--quick]``.
"""

from __future__ import annotations

import sys
import threading
import uuid
from collections import Counter

import httpx
from qiskit.circuit import QuantumCircuit

from bench._common import emulator_process, parse_args, record, report, report_targets
from qiskit_haiqu import HaiquClient, HaiquSampler

THREADS = 16
CIRCUITS = 5


def circuits(count: int) -> list[QuantumCircuit]:
    """``count`` distinct small measured circuits."""
    made = []
    for k in range(count):
        circuit = QuantumCircuit(3)
        circuit.h(0)
        circuit.ry(0.1 * (k + 1), 1)
        circuit.cx(0, 2)
        circuit.measure_all()
        made.append(circuit)
    return made


def one_round(url: str, client: HaiquClient) -> tuple[Counter[str], list[str]]:
    """16 threads on one fresh sampler: the requests the emulator saw, and the errors raised."""
    sampler = HaiquSampler(
        "aer_simulator", client=client, options={"experiment_name": f"sharing-{uuid.uuid4()}"}
    )
    work = circuits(CIRCUITS)
    errors: list[str] = []
    barrier = threading.Barrier(THREADS)

    def use(index: int) -> None:
        barrier.wait()
        try:
            sampler.run([work[index % CIRCUITS]], shots=10).result()
        except Exception as exc:  # noqa: BLE001 - every error is a finding
            errors.append(f"{type(exc).__name__}: {exc}")

    httpx.delete(f"{url}/_emulator/requests").raise_for_status()
    threads = [threading.Thread(target=use, args=(i,)) for i in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    log = httpx.get(f"{url}/_emulator/requests").json()
    seen = Counter(f"{e['method']} {e['path']}" for e in log if e["method"] == "POST")
    counts = Counter(
        {
            "uploads": seen["POST /circuits"],
            "inits": seen["POST /experiments/init"],
            "runs": seen["POST /run"],
        }
    )
    return counts, errors


def main() -> None:
    args = parse_args(__doc__ or "")
    rounds = 1 if args.quick else 10
    previous = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads as often as possible: races show
    try:
        with (
            emulator_process(smoke=args.quick, max_workers=4) as url,
            HaiquClient(url=url, api_key="bench") as client,
        ):
            results = [one_round(url, client) for _ in range(rounds)]
    finally:
        sys.setswitchinterval(previous)
    uploads = [c["uploads"] for c, _ in results]
    inits = [c["inits"] for c, _ in results]
    runs = [c["runs"] for c, _ in results]
    errors = [e for _, found in results for e in found]
    races = len(errors)
    report(
        f"{THREADS} threads sharing one sampler, {CIRCUITS} circuits ({rounds} rounds)",
        [
            ("POST /circuits per round (needed 5)", ", ".join(map(str, uploads))),
            ("POST /experiments/init per round (needed 1)", ", ".join(map(str, inits))),
            ("POST /run per round", ", ".join(map(str, runs))),
            ("errors raised in the threads", str(races)),
            *[("  error", e[:200]) for e in dict.fromkeys(errors)],
        ],
    )
    worst_uploads, worst_inits = max(uploads), max(inits)
    report_targets(
        [
            record(
                f"{THREADS} threads, {CIRCUITS} circuits, one primitive (worst of {rounds})",
                f"{worst_uploads} uploads, {worst_inits} init, {races} races",
                f"{CIRCUITS} uploads, 1 init, 0 races",
                worst_uploads == CIRCUITS and worst_inits == 1 and races == 0,
            )
        ]
    )


if __name__ == "__main__":
    main()
