"""Transpile for a Haiqu device with its backend, then sample and estimate with mode=backend.

``HaiquService().backend("fake_algiers")`` is a Qiskit ``BackendV2`` built from what the
service says of the device: its qubits, its gates and its coupling map. Qiskit's
``generate_preset_pass_manager(backend=backend)`` turns a logical circuit into an ISA circuit
for it (as wide as the device, acting on a few of its qubits), and the primitives take the
backend as ``mode``, as qiskit-ibm-runtime's do. ``backend.run()`` gives the counts as a
``qiskit.result.Result`` too.

The circuit is Bernstein-Vazirani for a 4-bit secret: one query reveals the secret, so on the
noisy device the most frequent outcome is the secret itself. The estimator measures the
parity ``<ZZZZ>`` of a GHZ state (exactly 1) through the layout of its ISA circuit.

Run against the embedded emulator: ``python examples/transpile_with_backend.py`` (``--quick``
for fewer shots). Set ``HAIQU_API_URL``/``HAIQU_API_KEY`` to run on the Haiqu cloud instead.
"""

from __future__ import annotations

import argparse
import os

from qiskit import QuantumCircuit
from qiskit.quantum_info import SparsePauliOp
from qiskit.transpiler import generate_preset_pass_manager

from qiskit_haiqu import HaiquBackend, HaiquClient, HaiquEstimator, HaiquSampler, HaiquService

DEVICE = "fake_algiers"
SECRET = "1011"


def bernstein_vazirani(secret: str) -> QuantumCircuit:
    """One oracle query that reveals ``secret`` (its last character is qubit 0)."""
    n = len(secret)
    circuit = QuantumCircuit(n + 1, n, name=f"bv{secret}")
    circuit.x(n)
    circuit.h(range(n + 1))
    for qubit, bit in enumerate(reversed(secret)):
        if bit == "1":
            circuit.cx(qubit, n)
    circuit.h(range(n))
    circuit.measure(range(n), range(n))
    return circuit


def ghz(num_qubits: int) -> QuantumCircuit:
    """The GHZ state (|0...0> + |1...1>) / sqrt(2), not measured."""
    circuit = QuantumCircuit(num_qubits, name=f"ghz{num_qubits}")
    circuit.h(0)
    for qubit in range(num_qubits - 1):
        circuit.cx(qubit, qubit + 1)
    return circuit


def is_isa(circuit: QuantumCircuit, backend: HaiquBackend) -> bool:
    """Whether the device's target supports every instruction on the qubits it acts on."""
    return all(
        inst.operation.name == "barrier"
        or backend.target.instruction_supported(
            inst.operation.name, tuple(circuit.find_bit(q).index for q in inst.qubits)
        )
        for inst in circuit.data
    )


def main() -> dict[str, float]:
    """Transpile, sample and estimate; return the figures printed."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true")
    quick = parser.parse_args().quick
    shots = 1000 if quick else 4000
    precision = 0.03 if quick else 0.01
    with HaiquClient(url=os.environ.get("HAIQU_API_URL", "local")) as client:
        backend = HaiquService(client).backend(DEVICE)
        edges = backend.coupling_map.get_edges() if backend.coupling_map else []
        print(
            f"{backend.name}: {backend.num_qubits} qubits, operations "
            f"{', '.join(sorted(backend.operation_names))}; {len(edges)} coupling edges"
        )

        pm = generate_preset_pass_manager(backend=backend, optimization_level=1, seed_transpiler=7)
        logical = bernstein_vazirani(SECRET)
        isa = pm.run(logical)
        acted_on = {q for inst in isa.data if inst.operation.name != "barrier" for q in inst.qubits}
        print(
            f"ISA circuit: {isa.num_qubits} qubits, {len(acted_on)} acted on, depth "
            f"{isa.depth()}, ops {dict(isa.count_ops())}; ISA for {DEVICE}: "
            f"{is_isa(isa, backend)} (the logical circuit: {is_isa(logical, backend)})"
        )

        # The primitives take the backend as mode, as qiskit-ibm-runtime's SamplerV2 does.
        sampler = HaiquSampler(mode=backend, options={"default_shots": shots})
        counts = sampler.run([isa]).result()[0].data.c.get_counts()
        top = max(counts, key=counts.get)
        print(
            f"sampler (mode=backend): most frequent {top} with {counts[top] / shots:.2f} "
            f"of {shots} shots (secret {SECRET})"
        )

        # BackendV2.run: a qiskit.result.Result, keyed as Qiskit's get_counts keys them.
        legacy = backend.run(isa, shots=shots).result().get_counts()
        top_run = max(legacy, key=legacy.get)
        print(
            f"backend.run: most frequent {top_run} with {legacy[top_run] / shots:.2f} "
            f"of {shots} shots"
        )

        # The estimator: an ISA circuit takes its observable through the circuit's layout.
        isa_ghz = pm.run(ghz(4))
        observable = SparsePauliOp("ZZZZ").apply_layout(isa_ghz.layout)
        estimator = HaiquEstimator(mode=backend, options={"default_precision": precision})
        data = estimator.run([(isa_ghz, observable)]).result()[0].data
        print(f"estimator (mode=backend): <ZZZZ> {float(data.evs):.3f} +- {float(data.stds):.3f}")
        print("exact <ZZZZ> on a GHZ state: 1.0")
    return {
        "sampler": counts[SECRET] / shots,
        "backend_run": legacy.get(SECRET, 0) / shots,
        "zzzz": float(data.evs),
    }


if __name__ == "__main__":
    main()
