"""Core metrics of a stored circuit, in the shape of Haiqu's circuit ``analytics``."""

from __future__ import annotations

from typing import Any

from qiskit.circuit import CircuitInstruction, Gate, QuantumCircuit

__all__ = ["circuit_analytics"]


def _is_gate(instruction: CircuitInstruction, width: int | None = None) -> bool:
    if not isinstance(instruction.operation, Gate):
        return False
    return width is None or len(instruction.qubits) == width


def circuit_analytics(circuit: QuantumCircuit) -> dict[str, Any] | None:
    """The core metrics the SDK's ``CircuitAnalyticsModel`` requires (``None``: no qubits)."""
    if circuit.num_qubits < 1:
        return None
    gates_1q = gates_2q = other_gates = other_ops = 0
    active: set[Any] = set()
    for instruction in circuit.data:
        active.update(instruction.qubits)
        if not _is_gate(instruction):
            other_ops += 1
        elif len(instruction.qubits) == 1:
            gates_1q += 1
        elif len(instruction.qubits) == 2:
            gates_2q += 1
        else:
            other_gates += 1
    return {
        "qubits": circuit.num_qubits,
        "num_qubits_active": len(active),
        "num_parameters": circuit.num_parameters,
        "clbits": circuit.num_clbits,
        "depth": circuit.depth(),
        "depth_2q": circuit.depth(lambda instruction: _is_gate(instruction, 2)),
        "gates_1q": gates_1q,
        "gates_2q": gates_2q,
        "other_gates": other_gates,
        "gates_total": gates_1q + gates_2q + other_gates,
        "other_ops": other_ops,
        "instructions_total": len(circuit.data),
        "operations_counts": {str(k): int(v) for k, v in circuit.count_ops().items()},
    }
