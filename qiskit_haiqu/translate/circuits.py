"""Circuits for the wire: base64 QPY, a content fingerprint, and register layouts."""

from __future__ import annotations

import base64
import hashlib
import io
from typing import Any

from qiskit import qpy
from qiskit.circuit import ControlFlowOp, Gate, Instruction, ParameterExpression, QuantumCircuit
from qiskit.circuit.library import get_standard_gate_name_mapping
from qiskit.exceptions import QiskitError

from qiskit_haiqu.errors import HaiquInputError

__all__ = ["circuit_fingerprint", "decode_circuit", "encode_circuit", "register_layout"]

_STANDARD = get_standard_gate_name_mapping()
_DIRECTIVES = frozenset({"measure", "reset", "barrier", "delay", "store"})


def encode_circuit(circuit: QuantumCircuit, *, qpy_version: int = 16) -> str:
    """Base64 (standard, padded) of ``qpy.dump`` of exactly one circuit.

    Args:
        circuit: The circuit to encode.
        qpy_version: The QPY format version; 16 is what a service on Qiskit 2.5 reads.

    Raises:
        HaiquInputError: QPY cannot write the circuit at that version, or an operation
            shadows a standard gate's name (the server would load the standard gate).
    """
    if not qpy.QPY_COMPATIBILITY_VERSION <= qpy_version <= qpy.QPY_VERSION:
        raise HaiquInputError(
            f"QPY version {qpy_version} is not supported by the installed Qiskit (it writes "
            f"{qpy.QPY_COMPATIBILITY_VERSION} to {qpy.QPY_VERSION}); set qpy_version in range."
        )
    _check_name_collisions(circuit)
    buffer = io.BytesIO()
    try:
        try:
            qpy.dump(circuit, buffer, version=qpy_version)
        except TypeError:
            if not circuit.metadata:
                raise
            # metadata QPY cannot write stays client-side (results re-attach it there)
            circuit = circuit.copy()
            circuit.metadata = {}
            buffer = io.BytesIO()
            qpy.dump(circuit, buffer, version=qpy_version)
    except (QiskitError, TypeError, ValueError) as exc:
        raise HaiquInputError(
            f"Circuit {circuit.name!r} cannot be serialised to QPY version {qpy_version}: "
            f"{exc}. Decompose unsupported custom objects or use a newer qpy_version option."
        ) from None
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def decode_circuit(qpy_b64: str) -> QuantumCircuit:
    """The circuit of a base64 QPY string (the inverse of :func:`encode_circuit`)."""
    circuits = qpy.load(io.BytesIO(base64.b64decode(qpy_b64, validate=True)))
    if len(circuits) != 1:
        raise ValueError(f"expected exactly one circuit in the QPY data, found {len(circuits)}")
    circuit = circuits[0]
    if not isinstance(circuit, QuantumCircuit):
        raise ValueError("the QPY data does not hold a QuantumCircuit")
    return circuit


def _check_name_collisions(circuit: QuantumCircuit) -> None:
    for instruction in circuit.data:
        operation = instruction.operation
        standard = _STANDARD.get(operation.name)
        if standard is not None and type(operation) is not type(standard):
            if getattr(operation, "base_class", None) is getattr(standard, "base_class", None):
                continue
            raise HaiquInputError(
                f"Circuit {circuit.name!r}: operation {type(operation).__name__} is named "
                f"{operation.name!r}, like Qiskit's standard gate, so the server would load "
                "the standard gate instead. Give the custom gate another name."
            )


def _param_key(value: Any) -> Any:
    if isinstance(value, ParameterExpression):
        return ("expr", str(value))
    if isinstance(value, QuantumCircuit):
        return ("circuit", _circuit_key(value))
    if isinstance(value, float | int | complex | str | bool) or value is None:
        return repr(value)
    return (type(value).__name__, repr(value))


def _operation_key(operation: Instruction) -> Any:
    params = tuple(_param_key(p) for p in operation.params)
    key: tuple[Any, ...] = (operation.name, operation.num_qubits, operation.num_clbits, params)
    if isinstance(operation, ControlFlowOp):
        return key
    if operation.name not in _STANDARD and operation.name not in _DIRECTIVES:
        definition = operation.definition if isinstance(operation, Gate | Instruction) else None
        if definition is not None:
            key = (*key, _circuit_key(definition))
    return key


def _circuit_key(circuit: QuantumCircuit) -> tuple[Any, ...]:
    find = circuit.find_bit
    # Quantum register names do not change results (and are often auto-generated);
    # classical register names do: they name the result's fields.
    registers = (
        tuple(tuple(find(bit).index for bit in reg) for reg in circuit.qregs),
        tuple((reg.name, tuple(find(bit).index for bit in reg)) for reg in circuit.cregs),
    )
    instructions = tuple(
        (
            _operation_key(instruction.operation),
            tuple(find(q).index for q in instruction.qubits),
            tuple(find(c).index for c in instruction.clbits),
        )
        for instruction in circuit.data
    )
    return (
        circuit.num_qubits,
        circuit.num_clbits,
        tuple(p.name for p in circuit.parameters),
        _param_key(circuit.global_phase),
        registers,
        instructions,
    )


def circuit_fingerprint(circuit: QuantumCircuit) -> str:
    """A content hash of ``circuit``, stable across processes.

    It covers registers (with their bits), every instruction, parameter names and their
    order (so values can never bind to the wrong parameter of a reused circuit), and the
    global phase; not the circuit's name or metadata. Written like the wire's ``hash``:
    the decimal digits of the SHA-256 read as a little-endian integer.
    """
    digest = hashlib.sha256(repr(_circuit_key(circuit)).encode("utf-8")).digest()
    return str(int.from_bytes(digest, "little"))


def register_layout(circuit: QuantumCircuit) -> list[tuple[str, list[int]]]:
    """``(name, clbit indices in register order)`` of every classical register, in order."""
    return [(creg.name, [circuit.find_bit(bit).index for bit in creg]) for creg in circuit.cregs]
