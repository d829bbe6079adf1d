"""Circuits many tests use (``tests/`` is on ``sys.path`` under pytest's default import mode)."""

from __future__ import annotations

from qiskit.circuit import QuantumCircuit


def bell() -> QuantumCircuit:
    """A measured Bell pair named ``bell``: counts split between ``00`` and ``11``."""
    circuit = QuantumCircuit(2, name="bell")
    circuit.h(0)
    circuit.cx(0, 1)
    circuit.measure_all()
    return circuit


def ghz(num_qubits: int, *, measure: bool = True) -> QuantumCircuit:
    """The GHZ state (|0...0> + |1...1>) / sqrt(2) on ``num_qubits`` qubits, measured or not."""
    circuit = QuantumCircuit(num_qubits, name=f"ghz{num_qubits}")
    circuit.h(0)
    for qubit in range(num_qubits - 1):
        circuit.cx(qubit, qubit + 1)
    if measure:
        circuit.measure_all()
    return circuit
