"""``qiskit-haiqu demo``: a Bell circuit sampled and an RY sweep estimated, end to end."""

from __future__ import annotations

import numpy as np
from qiskit.circuit import Parameter, QuantumCircuit
from qiskit.quantum_info import SparsePauliOp

from qiskit_haiqu.api.client import HaiquClient
from qiskit_haiqu.primitives import HaiquEstimator, HaiquSampler

__all__ = ["run_demo"]


def run_demo(url: str | None = "local", api_key: str | None = None) -> None:
    """Run the demo against ``url`` (``"local"``: an embedded emulator) and print it."""
    with HaiquClient(url=url, api_key=api_key) as client:
        print(f"Haiqu API at {client.base_url} (version {client.version()})")

        bell = QuantumCircuit(2, name="bell")
        bell.h(0)
        bell.cx(0, 1)
        bell.measure_all()
        sampler = HaiquSampler("aer_simulator", client=client, options={"default_shots": 1000})
        job = sampler.run([bell])
        print(f"Sampler job {job.job_id()} submitted; waiting...")
        counts = job.result()[0].data.meas.get_counts()
        print(f"Bell state counts (1000 shots): {dict(sorted(counts.items()))}")

        theta = Parameter("theta")
        ry = QuantumCircuit(1, name="ry")
        ry.ry(theta, 0)
        angles = np.linspace(0, np.pi, 5)
        estimator = HaiquEstimator("aer_simulator", client=client)
        result = estimator.run([(ry, SparsePauliOp("Z"), angles)], precision=0.02).result()[0]
        print("RY(theta) sweep, <Z> measured vs exact cos(theta):")
        for angle, ev, std in zip(angles, result.data.evs, result.data.stds, strict=True):
            print(f"  theta={angle:5.3f}  <Z>={ev:+.3f} +- {std:.3f}  exact={np.cos(angle):+.3f}")
        print(f"Shots per point: {result.metadata['shots']}. Done.")
