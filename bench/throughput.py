"""Emulator throughput: small jobs per second on this machine, and scaling with qubits.

Target (issue 6): report small jobs/s on 2 cores, and how a GHZ sampler job scales with the
number of qubits (statevector 10, 16, 20, 24; MPS beyond). Run:
``python -m bench.throughput [--quick]``.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

from qiskit.circuit import QuantumCircuit

from bench._common import parse_args, report
from qiskit_haiqu import HaiquClient, HaiquSampler
from qiskit_haiqu.emulator import EmulatorServer


def ghz(qubits: int) -> QuantumCircuit:
    """A GHZ circuit with a T layer (not Clifford, so Aer cannot switch to a stabilizer
    simulation), measured."""
    qc = QuantumCircuit(qubits)
    qc.h(0)
    for q in range(qubits - 1):
        qc.cx(q, q + 1)
    qc.t(range(qubits))
    qc.measure_all()
    return qc


def main() -> None:
    args = parse_args(__doc__ or "")
    jobs = 10 if args.quick else 200
    widths = [10] if args.quick else [10, 16, 20, 24]
    mps_width = 20 if args.quick else 80
    rows = []
    with EmulatorServer() as server, HaiquClient(url=server.url, api_key="bench") as client:
        sampler = HaiquSampler("aer_simulator", client=client)
        small = ghz(2)
        sampler.run([small]).result()
        start = time.perf_counter()
        with ThreadPoolExecutor(8) as pool:
            list(pool.map(lambda _: sampler.run([small], shots=100).result(), range(jobs)))
        elapsed = time.perf_counter() - start
        rows.append((f"{jobs} small jobs from 8 threads", f"{jobs / elapsed:.1f} jobs/s"))
        for width in widths:
            circuit = ghz(width)
            start = time.perf_counter()
            sampler.run([circuit], shots=1000).result()
            rows.append(
                (f"GHZ {width} qubits, statevector", f"{time.perf_counter() - start:.2f} s")
            )
        mps = HaiquSampler(
            "aer_simulator",
            client=client,
            options={"device_options": {"method": "matrix_product_state"}},
        )
        start = time.perf_counter()
        mps.run([ghz(mps_width)], shots=1000).result()
        rows.append((f"GHZ {mps_width} qubits, MPS", f"{time.perf_counter() - start:.2f} s"))
    report("emulator throughput (2 cores)", rows)


if __name__ == "__main__":
    main()
