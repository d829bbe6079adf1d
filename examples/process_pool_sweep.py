"""A parameter sweep fanned out over a process pool, jobs handed between processes.

Each worker process gets the estimator itself (pickled: device, options and the client's
settings, never the API key), submits its slice of the sweep and hands back the *job*, not
the values. The parent collects every job's result, as it would from Dask or Ray workers.
Each process reads the key from its own ``HAIQU_API_KEY``; the key never travels in a pickle.

Run against an emulator served by this script: ``python examples/process_pool_sweep.py``
(``--quick`` for fewer points). Set ``HAIQU_API_URL``/``HAIQU_API_KEY`` to use the Haiqu cloud.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor

import numpy as np
from qiskit import QuantumCircuit
from qiskit.circuit import Parameter
from qiskit.quantum_info import SparsePauliOp

from qiskit_haiqu import HaiquClient, HaiquEstimator, HaiquJob
from qiskit_haiqu.emulator import EmulatorServer


def submit(estimator: HaiquEstimator, angles: np.ndarray) -> HaiquJob:
    """In a worker: run one slice of the sweep and return the job (not its values)."""
    theta = Parameter("theta")
    circuit = QuantumCircuit(1)
    circuit.ry(theta, 0)
    return estimator.run([(circuit, SparsePauliOp("Z"), angles.reshape(-1, 1))])


def main() -> bool:
    """Sweep <Z> of RY(theta)|0> = cos(theta) over a pool; return whether it matches."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    points, workers = (12, 2) if args.quick else (48, 4)
    angles = np.linspace(0, 2 * np.pi, points)
    server = None
    if not os.environ.get("HAIQU_API_URL"):  # an emulator other processes can reach
        server = EmulatorServer().start()
        os.environ["HAIQU_API_URL"] = server.url
        os.environ.setdefault("HAIQU_API_KEY", "any-key")  # the emulator takes any key
    try:
        with HaiquClient() as client:
            estimator = HaiquEstimator(
                "aer_simulator", client=client, options={"default_precision": 0.02}
            )
            context = multiprocessing.get_context("spawn")  # workers share nothing but the env
            with ProcessPoolExecutor(workers, mp_context=context) as pool:
                slices = np.array_split(angles, workers)
                jobs = list(pool.map(submit, [estimator] * workers, slices))
            print(f"{len(jobs)} jobs submitted by {workers} worker processes:")
            for job in jobs:
                print(f"  {job.job_id()}")
            values = np.concatenate([job.result()[0].data.evs for job in jobs])
    finally:
        if server is not None:
            server.stop()
    error = float(np.max(np.abs(values - np.cos(angles))))
    print(f"{points} points collected here; largest |<Z> - cos(theta)| = {error:.3f}")
    ok = error < 0.1  # five standard deviations at precision 0.02
    print(f"matches cos(theta): {ok}")
    return ok


if __name__ == "__main__":
    main()
