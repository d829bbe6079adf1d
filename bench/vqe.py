"""VQE turnaround: HaiquEstimator on the local emulator vs qiskit-aer's EstimatorV2 in-process.

Targets (issue 6): 100 iterations (8 qubits, hardware-efficient ansatz, 30-term Hamiltonian,
precision 0.01) at a wall-time ratio <= 1.5 against Aer in-process (issue 14: <= 1.15, in
the targets table); an order of magnitude faster than a naive client that uploads the
circuit and polls every 5 s (the official SDK's way); after the first iteration exactly one
POST /run, at most two polls, zero uploads and zero experiment or device look-ups per
iteration.

The two loops are timed interleaved, iteration by iteration (which of them goes first
alternates), so a busy host slows both alike; three such rounds are run and the round with
the median ratio is the figure (every round is printed).

Run: ``python -m bench.vqe [--quick]``.
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass

import httpx
import numpy as np
from qiskit import QuantumCircuit
from qiskit.circuit.library import efficient_su2
from qiskit.quantum_info import SparsePauliOp
from qiskit_aer.primitives import EstimatorV2 as AerEstimator

from bench._common import emulator_process, parse_args, record, report, report_targets
from qiskit_haiqu import HaiquClient, HaiquEstimator

QUBITS = 8
TERMS = 30
PRECISION = 0.01


def hamiltonian(seed: int = 7) -> SparsePauliOp:
    """A random 30-term Hamiltonian on 8 qubits."""
    rng = np.random.default_rng(seed)
    labels = {"".join(rng.choice(list("IXYZ"), QUBITS)) for _ in range(4 * TERMS)}
    chosen = sorted(labels - {"I" * QUBITS})[:TERMS]
    return SparsePauliOp(chosen, rng.normal(size=len(chosen)))


def parameter_path(iterations: int, num_parameters: int) -> np.ndarray:
    """The parameter values a VQE loop would visit (a fixed random walk, same for all)."""
    rng = np.random.default_rng(11)
    return np.cumsum(rng.normal(scale=0.05, size=(iterations, num_parameters)), axis=0)


def _requests(url: str) -> list[tuple[str, str]]:
    entries = httpx.get(f"{url}/_emulator/requests").json()
    return [(e["method"], e["path"]) for e in entries]


def _kind(method: str, path: str) -> str:
    if path == "/run":
        return "POST /run"
    if path.startswith("/jobs/"):
        return "GET /jobs"
    if path.startswith("/circuits") or "/circuits/" in path:
        return "circuits"
    if path.startswith(("/experiments", "/devices")):
        return "experiment/device"
    return f"{method} {path}"


@dataclass(frozen=True)
class _Round:
    """One interleaved pass of both loops: their wall times and values."""

    aer_s: float
    ours_s: float
    aer_values: list[float]
    ours_values: list[float]

    @property
    def ratio(self) -> float:
        return self.ours_s / self.aer_s


def _interleaved(
    aer: AerEstimator,
    ours: HaiquEstimator,
    ansatz: QuantumCircuit,
    observable: SparsePauliOp,
    path: np.ndarray,
) -> _Round:
    """Both loops over ``path``, one iteration of each in turn (alternating which is first)."""
    seconds = {"aer": 0.0, "ours": 0.0}
    values: dict[str, list[float]] = {"aer": [], "ours": []}
    estimators = {"aer": aer, "ours": ours}
    for index, x in enumerate(path):
        for name in ("aer", "ours") if index % 2 == 0 else ("ours", "aer"):
            start = time.perf_counter()
            value = estimators[name].run([(ansatz, observable, x)]).result()[0].data.evs
            seconds[name] += time.perf_counter() - start
            values[name].append(float(value))
    return _Round(seconds["aer"], seconds["ours"], values["aer"], values["ours"])


def main() -> None:
    args = parse_args(__doc__ or "")
    iterations = 5 if args.quick else 100
    naive_iterations = 1 if args.quick else 2
    naive_poll = 0.2 if args.quick else 5.0  # the SDK's 5 s; a smoke run only checks the path
    ansatz = efficient_su2(QUBITS, reps=2)
    observable = hamiltonian()
    path = parameter_path(iterations, ansatz.num_parameters)

    aer = AerEstimator(options={"default_precision": PRECISION})
    aer.run([(ansatz, observable, path[0])]).result()  # warm-up, as for ours

    with emulator_process(smoke=args.quick) as url, HaiquClient(url=url, api_key="bench") as client:
        options = {"default_precision": PRECISION}
        estimator = HaiquEstimator("aer_simulator", client=client, options=options)
        estimator.run([(ansatz, observable, path[0])]).result()  # first call: uploads
        rounds = [_interleaved(aer, estimator, ansatz, observable, path) for _ in range(3)]
        rounds.sort(key=lambda r: r.ratio)
        median = rounds[1]
        aer_s, ours_s = median.aer_s, median.ours_s
        aer_values, ours_values = median.aer_values, median.ours_values

        per_iteration: list[Counter[str]] = []  # a second, untimed pass reads the request log
        for x in path[:10]:
            httpx.delete(f"{url}/_emulator/requests")
            estimator.run([(ansatz, observable, x)]).result()
            per_iteration.append(Counter(_kind(m, p) for m, p in _requests(url)))

        naive = HaiquEstimator(
            "aer_simulator",
            client=client,
            options={**options, "poll_interval": naive_poll, "max_poll_interval": naive_poll},
        )
        start = time.perf_counter()
        for x in path[:naive_iterations]:
            naive._submitter.forget_circuits()  # the naive client uploads every time
            naive._submitter.durations.clear()  # and polls every naive_poll seconds
            naive.run([(ansatz, observable, x)]).result()
        naive_per_iteration = (time.perf_counter() - start) / naive_iterations

    deviation = float(np.max(np.abs(np.array(ours_values) - np.array(aer_values))))
    ratio = ours_s / aer_s
    naive_ratio = naive_per_iteration / (ours_s / iterations)
    report(
        f"VQE loop: {iterations} iterations, {QUBITS} qubits, {TERMS} terms, precision {PRECISION}",
        [
            (
                "qiskit-aer EstimatorV2 (in-process)",
                f"{aer_s:.3f} s ({aer_s / iterations * 1e3:.1f} ms/it)",
            ),
            (
                "HaiquEstimator, emulator in its own process",
                f"{ours_s:.3f} s ({ours_s / iterations * 1e3:.1f} ms/it)",
            ),
            ("ratio ours / aer (target <= 1.5)", f"{ratio:.2f}"),
            ("  every round's ratio (interleaved)", ", ".join(f"{r.ratio:.2f}" for r in rounds)),
            (
                f"naive client (upload + {naive_poll:.0f} s polls)",
                f"{naive_per_iteration:.2f} s/it",
            ),
            ("naive / ours (target >= 10)", f"{naive_ratio:.0f}x"),
            ("POST /run per iteration (max)", str(max(c["POST /run"] for c in per_iteration))),
            (
                "polls per iteration (max; target <= 2)",
                str(max(c["GET /jobs"] for c in per_iteration)),
            ),
            ("uploads per iteration (max)", str(max(c["circuits"] for c in per_iteration))),
            (
                "experiment/device look-ups (max)",
                str(max(c["experiment/device"] for c in per_iteration)),
            ),
            ("max |ours - aer| (both noisy at 0.01)", f"{deviation:.3f}"),
        ],
    )
    report_targets(
        [
            record(
                f"VQE loop, {iterations} iterations, vs in-process Aer",
                f"{ratio:.2f}x ({ours_s / iterations * 1e3:.1f} vs "
                f"{aer_s / iterations * 1e3:.1f} ms/it; median of 3 interleaved rounds: "
                f"{', '.join(f'{r.ratio:.2f}' for r in rounds)})",
                "<= 1.15x",
                ratio <= 1.15,
            )
        ]
    )


if __name__ == "__main__":
    main()
