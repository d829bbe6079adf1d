"""VQE for the H2 molecule (2 qubits) with qiskit-algorithms' ``VQE`` on HaiquEstimator.

Run against the embedded emulator: ``python examples/vqe_h2.py`` (``--quick`` for fewer
optimiser steps). Set ``HAIQU_API_URL``/``HAIQU_API_KEY`` to run on the Haiqu cloud instead.

The Hamiltonian is H2 at 0.735 angstrom in the STO-3G basis, parity-mapped with two-qubit
reduction; its exact ground energy comes from ``NumPyMinimumEigensolver``.
"""

from __future__ import annotations

import argparse
import os

from qiskit.circuit.library import real_amplitudes
from qiskit.quantum_info import SparsePauliOp
from qiskit_algorithms import VQE, NumPyMinimumEigensolver
from qiskit_algorithms.optimizers import COBYLA

from qiskit_haiqu import HaiquClient, HaiquEstimator

HAMILTONIAN = SparsePauliOp.from_list(
    [
        ("II", -1.052373245772859),
        ("IZ", 0.39793742484318045),
        ("ZI", -0.39793742484318045),
        ("ZZ", -0.01128010425623538),
        ("XX", 0.18093119978423156),
    ]
)


def main() -> float:
    """Run the VQE; returns the distance of its energy from the exact ground energy."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer optimiser steps")
    args = parser.parse_args()

    exact = NumPyMinimumEigensolver().compute_minimum_eigenvalue(HAMILTONIAN).eigenvalue.real
    ansatz = real_amplitudes(2, reps=1)
    evaluations: list[float] = []

    def record(count: int, parameters: object, energy: float, metadata: object) -> None:
        evaluations.append(energy)

    with HaiquClient(url=os.environ.get("HAIQU_API_URL", "local")) as client:
        # Precision 0.002 is 250,000 shots per evaluation: shot noise stays well below 0.01.
        estimator = HaiquEstimator(
            "aer_simulator",
            client=client,
            options={"default_precision": 0.002, "device_options": {"seed_simulator": 7}},
        )
        optimizer = COBYLA(maxiter=60 if args.quick else 150)
        vqe = VQE(estimator, ansatz, optimizer, initial_point=[0.1] * 4, callback=record)
        result = vqe.compute_minimum_eigenvalue(HAMILTONIAN)

    energy = float(result.eigenvalue.real)
    error = abs(energy - exact)
    print(f"{len(evaluations)} energy evaluations, each one Haiqu job")
    print(f"VQE energy {energy:.5f} Ha; exact ground energy {exact:.5f} Ha")
    print(f"distance from exact: {error:.5f} Ha")
    return error


if __name__ == "__main__":
    main()
