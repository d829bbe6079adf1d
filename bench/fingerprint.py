"""Fingerprint: the cost of a circuit's identity, paid on every ``run()``.

The fingerprint is the SHA-256 of the QPY Qiskit writes for the uploaded copy (parameter and
generated UUIDs made canonical), so nothing a circuit holds is left out. Measured side by side
on a 100-instruction parameterised circuit: the fingerprint, plain ``qpy.dump`` of the same
circuit, and Qiskit's own ``SamplerPub.coerce`` (what every ``run()`` pays anyway).
Run: ``python -m bench.fingerprint [--quick]``.
"""

from __future__ import annotations

import io

from qiskit import qpy
from qiskit.circuit import ParameterVector, QuantumCircuit
from qiskit.primitives.containers.sampler_pub import SamplerPub

from bench._common import best_of, parse_args, report
from qiskit_haiqu.translate.circuits import circuit_fingerprint


def make_circuit(instructions: int, qubits: int = 8) -> QuantumCircuit:
    """Rotation layers with entangling CXs and final measurements: ``instructions`` in all."""
    measured = qubits + 1  # measure_all adds a barrier and one measurement per qubit
    theta = ParameterVector("theta", (instructions - measured) // 2 + 1)
    circuit = QuantumCircuit(qubits)
    k = 0
    while len(circuit.data) < instructions - measured:
        circuit.ry(theta[k], k % qubits)
        if len(circuit.data) < instructions - measured:
            circuit.cx(k % qubits, (k + 1) % qubits)
        k += 1
    circuit.measure_all()
    return circuit


def qpy_dump(circuit: QuantumCircuit) -> bytes:
    """Plain ``qpy.dump`` at the wire's version."""
    buffer = io.BytesIO()
    qpy.dump(circuit, buffer, version=16)
    return buffer.getvalue()


def main() -> None:
    args = parse_args(__doc__ or "")
    circuit = make_circuit(100)
    values = [0.1] * circuit.num_parameters
    repeat = max(args.repeat, 20)
    ours = best_of(lambda: circuit_fingerprint(circuit), repeat)
    dump = best_of(lambda: qpy_dump(circuit), repeat)
    coerce = best_of(lambda: SamplerPub.coerce((circuit, values), 1024), repeat)
    report(
        "fingerprint: identity of a 100-instruction circuit (paid on every run())",
        [
            ("workload", f"{len(circuit.data)} instructions, {circuit.num_parameters} parameters"),
            ("circuit_fingerprint", f"{ours * 1e3:.2f} ms"),
            ("qpy.dump alone", f"{dump * 1e3:.2f} ms ({ours / dump:.2f}x of it)"),
            ("SamplerPub.coerce (Qiskit)", f"{coerce * 1e3:.2f} ms"),
        ],
    )


if __name__ == "__main__":
    main()
