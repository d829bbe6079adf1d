"""Fingerprints of circuits seen before, found again by a cheap structural key.

A variational loop runs the same circuit object every iteration; its fingerprint (a QPY dump
and a hash, :func:`~qiskit_haiqu.translate.circuits.circuit_fingerprint`) costs about a
millisecond each time. ``QuantumCircuit`` is mutable and has no version counter, so the
cache is keyed by the circuit's whole content, not its identity: its bits, registers,
global phase and every instruction (name, label, parameters, qubits, clbits). Equal keys
mean equal QPY, hence equal fingerprints; a circuit changed in place has a new key.

Only circuits made of standard gates, measurements, resets and barriers, with float or
:class:`~qiskit.circuit.Parameter` parameters and no classical variables, get a key: their
QPY is fully described by it. Any other circuit (custom gates, control flow, parameter
expressions, annotations) is fingerprinted from its QPY every time.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable

from qiskit.circuit import (
    Barrier,
    Measure,
    Parameter,
    ParameterVectorElement,
    QuantumCircuit,
    Reset,
)

from qiskit_haiqu.translate.circuits import circuit_fingerprint

__all__ = ["FingerprintCache", "structural_key"]

_NON_GATES = (Measure, Reset, Barrier)
_NON_GATE_NAMES = frozenset({"measure", "reset", "barrier"})


def _value_key(value: object) -> Hashable | None:
    """A parameter or phase as a key part (``None``: not one the key can describe).

    A parameter counts by its name (and a vector element by its vector's size too), as the
    fingerprint does: it replaces parameter UUIDs by their position, and one circuit cannot
    hold two parameters of one name.
    """
    if isinstance(value, ParameterVectorElement):
        return ("v", value.name, len(value.vector))
    if isinstance(value, Parameter):  # named, never compared symbolically (slow)
        return ("p", value.name)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    return None


def structural_key(circuit: QuantumCircuit) -> tuple[Hashable, ...] | None:
    """Everything QPY writes of ``circuit`` (besides name and metadata), as a hashable key.

    ``None`` when the circuit holds something the key does not describe.
    """
    if circuit.num_vars or circuit.num_stretches:
        return None
    phase = _value_key(circuit.global_phase)
    if phase is None:
        return None
    instructions = []
    for instruction in circuit.data:
        if not instruction.is_standard_gate() and (
            instruction.name not in _NON_GATE_NAMES
            or getattr(instruction.operation, "base_class", None) not in _NON_GATES
        ):
            return None
        params = []
        for value in instruction.params:
            part = _value_key(value)
            if part is None:
                return None
            params.append(part)
        instructions.append(
            (
                instruction.name,
                instruction.label,
                tuple(params),
                instruction.qubits,
                instruction.clbits,
            )
        )
    registers = tuple((reg.name, tuple(reg)) for reg in (*circuit.qregs, *circuit.cregs))
    return (
        tuple(circuit.qubits),
        tuple(circuit.clbits),
        registers,
        phase,
        tuple(instructions),
    )


class FingerprintCache:
    """The fingerprints of recently seen circuits (least recently used dropped first)."""

    def __init__(self, size: int = 256) -> None:
        """Keep at most ``size`` fingerprints."""
        self._size = size
        self._known: OrderedDict[tuple[Hashable, ...], str] = OrderedDict()
        self._lock = threading.Lock()

    def fingerprint(self, circuit: QuantumCircuit, *, qpy_version: int = 16) -> str:
        """``circuit_fingerprint(circuit)``, from the cache when the same content was seen."""
        content = structural_key(circuit)
        if content is None:
            return circuit_fingerprint(circuit, qpy_version=qpy_version)
        key = (qpy_version, content)
        with self._lock:
            found = self._known.get(key)
            if found is not None:
                self._known.move_to_end(key)
                return found
        fingerprint = circuit_fingerprint(circuit, qpy_version=qpy_version)
        with self._lock:
            self._known[key] = fingerprint
            while len(self._known) > self._size:
                self._known.popitem(last=False)
        return fingerprint
