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
