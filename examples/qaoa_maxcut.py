"""QAOA MaxCut on a 6-node graph with HaiquSampler, checked against brute force.

Run against the embedded emulator: ``python examples/qaoa_maxcut.py`` (``--quick`` for fewer
optimiser steps). Set ``HAIQU_API_URL``/``HAIQU_API_KEY`` to run on the Haiqu cloud instead.
"""

from __future__ import annotations

import argparse
import itertools
import os

import numpy as np
from qiskit.circuit import Parameter, QuantumCircuit
from scipy.optimize import minimize

from qiskit_haiqu import HaiquClient, HaiquSampler

EDGES = [(0, 1), (1, 2), (2, 3), (3, 4), (4, 5), (5, 0), (0, 3), (1, 4)]
NODES = 6


def cut_value(bits: str) -> int:
    """Edges cut by the partition ``bits`` (node 0 is the rightmost character)."""
    side = [int(b) for b in reversed(bits)]
    return sum(side[i] != side[j] for i, j in EDGES)


def qaoa_circuit(layers: int) -> QuantumCircuit:
    """The QAOA ansatz for MaxCut with ``layers`` (gamma, beta) pairs."""
    gammas = [Parameter(f"gamma{k}") for k in range(layers)]
    betas = [Parameter(f"beta{k}") for k in range(layers)]
    qc = QuantumCircuit(NODES)
    qc.h(range(NODES))
    for gamma, beta in zip(gammas, betas, strict=True):
        for i, j in EDGES:
            qc.rzz(gamma, i, j)
        qc.rx(2 * beta, range(NODES))
    qc.measure_all()
    return qc


def main() -> tuple[int, int]:
    """Optimise, sample, and return (best cut found, optimum)."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true")
    quick = parser.parse_args().quick
    optimum = max(cut_value("".join(b)) for b in itertools.product("01", repeat=NODES))
    circuit = qaoa_circuit(layers=1 if quick else 2)
    with HaiquClient(url=os.environ.get("HAIQU_API_URL", "local")) as client:
        options = {"default_shots": 512, "device_options": {"seed_simulator": 7}}  # repeatable
        sampler = HaiquSampler("aer_simulator", client=client, options=options)

        def expected_cut(x: np.ndarray) -> float:
            counts = sampler.run([(circuit, x)]).result()[0].data.meas.get_counts()
            return -sum(cut_value(k) * v for k, v in counts.items()) / sum(counts.values())

        x0 = np.full(circuit.num_parameters, 0.4)
        steps = 15 if quick else 60
        best = minimize(expected_cut, x0, method="COBYLA", options={"maxiter": steps})
        counts = sampler.run([(circuit, best.x)], shots=2048).result()[0].data.meas.get_counts()
    found = max(cut_value(k) for k in counts)
    top = max(counts, key=lambda k: counts[k])
    print(f"expected cut {-best.fun:.2f} after {best.nfev} evaluations")
    print(f"most frequent partition {top} cuts {cut_value(top)}; best sampled {found}")
    print(f"optimum by brute force: {optimum}")
    return found, optimum


if __name__ == "__main__":
    main()
