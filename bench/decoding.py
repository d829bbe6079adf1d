"""Decoding: probability distributions to per-register BitArrays, versus BitArray.from_counts.

Target (issue 6): 100 pubs of 100,000 shots on 20 bits with ~50,000 distinct outcomes each
decode at >= 10 million shots per second. Beside it, one pub of many small rows (10,000
parameter rows of 8 shots on 1 clbit: one or two outcomes a row), where the cost is per row.
Run: ``python -m bench.decoding [--quick]``.
"""

from __future__ import annotations

import argparse

import numpy as np
from qiskit.circuit import ClassicalRegister, QuantumCircuit, QuantumRegister
from qiskit.primitives import BitArray

from bench._common import best_of, parse_args, report
from qiskit_haiqu.translate.bitarrays import distributions_to_bitarrays
from qiskit_haiqu.translate.circuits import register_layout


def make_distributions(pubs: int, shots: int, bits: int, seed: int = 1) -> list[dict[str, float]]:
    """``pubs`` distributions of ``shots`` samples over ``bits`` bits, as the API sends them."""
    rng = np.random.default_rng(seed)
    dists = []
    for _ in range(pubs):
        pool = rng.integers(0, 2**bits, size=int(shots * 0.6))  # ~50,000 distinct of 100,000
        outcomes = rng.choice(pool, size=shots)
        values, counts = np.unique(outcomes, return_counts=True)
        keys = [format(int(v), f"0{bits}b") for v in values]
        dists.append(dict(zip(keys, (counts / shots).tolist(), strict=True)))
    return dists


def make_small_rows(rows: int, shots: int, seed: int = 2) -> list[dict[str, float]]:
    """``rows`` one-clbit distributions of ``shots`` shots each (one or two outcomes)."""
    ones = np.random.default_rng(seed).binomial(shots, 0.5, size=rows).tolist()
    return [{k: c / shots for k, c in (("0", shots - n), ("1", n)) if c} for n in ones]


def big_pubs(args: argparse.Namespace) -> None:
    """Many pubs of many shots and outcomes: the cost is per shot and per outcome."""
    pubs, shots, bits = (10, 20_000, 20) if args.quick else (100, 100_000, 20)
    dists = make_distributions(pubs, shots, bits)
    circuit = QuantumCircuit(QuantumRegister(bits), ClassicalRegister(bits, "meas"))
    layout = register_layout(circuit)
    distinct = int(np.mean([len(d) for d in dists]))

    def ours() -> None:
        for position, dist in enumerate(dists):
            distributions_to_bitarrays(
                [dist], shots=shots, num_clbits=bits, layout=layout, shape=(), seed=position
            )

    def qiskit() -> None:
        for dist in dists:
            BitArray.from_counts({k: round(v * shots) for k, v in dist.items()}, num_bits=bits)

    ours_s = best_of(ours, args.repeat)
    qiskit_s = best_of(qiskit, 1)
    total = pubs * shots
    report(
        "decoding: distributions -> BitArray",
        [
            ("workload", f"{pubs} pubs x {shots} shots, {bits} bits, ~{distinct} outcomes/pub"),
            ("qiskit-haiqu", f"{ours_s:.3f} s  = {total / ours_s / 1e6:.1f} M shots/s"),
            ("BitArray.from_counts", f"{qiskit_s:.3f} s  = {total / qiskit_s / 1e6:.1f} M shots/s"),
            ("ratio (from_counts / ours)", f"{qiskit_s / ours_s:.1f}x"),
            ("target", ">= 10 M shots/s: " + ("met" if total / ours_s >= 10e6 else "NOT met")),
        ],
    )


def small_rows(args: argparse.Namespace) -> None:
    """One pub of many parameter rows with a few shots each: the cost is per row."""
    rows, shots = (1_000, 8) if args.quick else (10_000, 8)
    dists = make_small_rows(rows, shots)
    layout = register_layout(QuantumCircuit(QuantumRegister(1), ClassicalRegister(1, "meas")))

    def ours() -> None:
        distributions_to_bitarrays(
            dists, shots=shots, num_clbits=1, layout=layout, shape=(rows,), seed=1
        )

    def qiskit() -> None:
        for dist in dists:
            BitArray.from_counts({k: round(v * shots) for k, v in dist.items()}, num_bits=1)

    ours_s = best_of(ours, args.repeat)
    qiskit_s = best_of(qiskit, 1)
    report(
        "decoding: one pub of many small rows -> BitArray",
        [
            ("workload", f"{rows} rows x {shots} shots, 1 clbit, 1-2 outcomes/row, seeded"),
            ("qiskit-haiqu", f"{ours_s * 1e3:.1f} ms  = {ours_s / rows * 1e6:.2f} us/row"),
            (
                "BitArray.from_counts per row",
                f"{qiskit_s * 1e3:.1f} ms  = {qiskit_s / rows * 1e6:.2f} us/row",
            ),
            ("ratio (from_counts / ours)", f"{qiskit_s / ours_s:.1f}x"),
        ],
    )


def main() -> None:
    args = parse_args(__doc__ or "")
    big_pubs(args)
    small_rows(args)


if __name__ == "__main__":
    main()
