"""Circuits for the wire: base64 QPY, a content fingerprint, and register layouts."""

from __future__ import annotations

import base64
import functools
import hashlib
import io
import re
import struct
import uuid
from collections.abc import Callable

from qiskit import qpy
from qiskit.circuit import ClassicalRegister, QuantumCircuit
from qiskit.circuit.library import get_standard_gate_name_mapping
from qiskit.exceptions import QiskitError

from qiskit_haiqu.errors import HaiquInputError

__all__ = [
    "CLBITS_REGISTER",
    "circuit_fingerprint",
    "decode_circuit",
    "encode_circuit",
    "register_layout",
    "stored_view",
    "wire_circuit",
]

_STANDARD = get_standard_gate_name_mapping()


def encode_circuit(circuit: QuantumCircuit, *, qpy_version: int = 16) -> str:
    """Base64 (standard, padded) QPY of :func:`wire_circuit`'s copy of ``circuit``.

    Args:
        circuit: The circuit to encode.
        qpy_version: The QPY format version; 16 is what a service on Qiskit 2.5 reads.

    Raises:
        HaiquInputError: QPY cannot write the circuit at that version, or an operation
            shadows a standard gate's name (the server would load the standard gate).
    """
    wire = wire_circuit(circuit)
    try:
        data = _qpy_bytes(wire, qpy_version)
    except HaiquInputError:
        if not wire.metadata:
            raise
        # metadata QPY cannot write stays client-side (results re-attach it there)
        wire = wire.copy()
        wire.metadata = {}
        data = _qpy_bytes(wire, qpy_version)
    return base64.b64encode(data).decode("ascii")


def _qpy_bytes(circuit: QuantumCircuit, qpy_version: int) -> bytes:
    """``qpy.dump`` of exactly one circuit, or an input error saying why it cannot be."""
    if not qpy.QPY_COMPATIBILITY_VERSION <= qpy_version <= qpy.QPY_VERSION:
        raise HaiquInputError(
            f"QPY version {qpy_version} is not supported by the installed Qiskit (it writes "
            f"{qpy.QPY_COMPATIBILITY_VERSION} to {qpy.QPY_VERSION}); set qpy_version in range."
        )
    _check_name_collisions(circuit)
    buffer = io.BytesIO()
    try:
        qpy.dump(circuit, buffer, version=qpy_version)
    except (QiskitError, TypeError, ValueError, AttributeError) as exc:
        raise HaiquInputError(
            f"Circuit {circuit.name!r} cannot be serialised to QPY version {qpy_version}: "
            f"{exc}. Decompose unsupported custom objects or use a newer qpy_version option."
        ) from None
    return buffer.getvalue()


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
        if instruction.name not in _STANDARD or instruction.is_standard_gate():
            continue  # (without building the operation object of every standard gate)
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


CLBITS_REGISTER = "haiqu_clbits"
"""Name (prefix) of the register that uploads add when the classical layout is ambiguous."""


def wire_circuit(circuit: QuantumCircuit) -> QuantumCircuit:
    """The circuit as it is uploaded: one meaning, whatever the server does with it.

    - No ``layout``: observables are sent at the circuit's full width (V2 semantics), so a
      server that maps them through an uploaded layout must not map them a second time.
    - When the classical registers do not tile the clbits in order (loose clbits, partial
      or overlapping registers, gaps), one more register covering every clbit in order is
      added last. A Qiskit-based server writes ``get_counts`` keys by chopping the full
      clbit string into groups of the registers' sizes, last register first, which loses
      or scrambles bits of such layouts; with that register first in the key, every key
      format carries the whole clbit string.

    The user's circuit is never modified; it is returned as is when nothing needs to change.
    """
    names = {creg.name for creg in circuit.cregs}
    # A user register with the added register's name gets one added after it, so that a
    # stored circuit's last register of that name is always the added one.
    add = not _registers_tile_clbits(circuit) or any(
        name.startswith(CLBITS_REGISTER) for name in names
    )
    if circuit.layout is None and not add:
        return circuit
    copy = circuit.copy()
    copy._layout = None  # noqa: SLF001 - QuantumCircuit has no public way to drop a layout
    if add:
        name = CLBITS_REGISTER
        while name in names:
            name += "_"
        copy.add_register(ClassicalRegister(name=name, bits=copy.clbits))
    return copy


def _registers_tile_clbits(circuit: QuantumCircuit) -> bool:
    """Whether the registers are disjoint and cover the clbits in order (0, 1, ...)."""
    position = 0
    for creg in circuit.cregs:
        for bit in creg:
            if int(circuit.find_bit(bit).index) != position:
                return False
            position += 1
    return bool(position == circuit.num_clbits)


def circuit_fingerprint(circuit: QuantumCircuit, *, qpy_version: int = 16) -> str:
    """A content hash of ``circuit`` as uploaded, stable across processes.

    It is the SHA-256 of the QPY bytes of :func:`wire_circuit`'s copy without its name and
    metadata, with every parameter's (and classical variable's) random UUID replaced by
    one fixed by its position: so whatever Qiskit serialises (instructions, control flow,
    conditions, annotations, custom definitions, parameter names and order, registers,
    global phase) is part of it, and two circuits that could give different results never
    share it. Written like the wire's ``hash``: the decimal digits of the digest read as a
    little-endian integer.

    Raises:
        HaiquInputError: QPY cannot write the circuit (see :func:`encode_circuit`).
    """
    copy = wire_circuit(circuit)
    if copy is circuit:
        copy = circuit.copy()
    copy.name = ""
    copy.metadata = {}
    data = _qpy_bytes(copy, qpy_version)
    ids = tuple(_random_ids(copy))
    if ids:
        canonical = {uid: uuid.UUID(int=position).bytes for position, uid in enumerate(ids, 1)}
        data = _ids_pattern(ids).sub(lambda match: canonical[match.group(0)], data)
    data = _canonical_qreg_names(data, copy)
    data = _canonical_generated_names(data)
    digest = hashlib.sha256(data).digest()
    return str(int.from_bytes(digest, "little"))


def _canonical_qreg_names(data: bytes, circuit: QuantumCircuit) -> bytes:
    """QPY bytes with each quantum register's name replaced by ``q<position>``.

    Quantum register names change no result and are often generated (``QuantumRegister(2)``
    is named by a global counter), so they are not part of the identity; classical register
    names are (they name the result's fields). QPY writes a register as a header (type
    ``q``, standalone flag, size, name length, in-circuit flag) followed by the name; only
    that exact sequence is rewritten.
    """
    for position, qreg in enumerate(circuit.qregs):
        name = qreg.name.encode("utf-8")
        header = re.escape(struct.pack("!I", qreg.size) + struct.pack("!H", len(name)))
        pattern = re.compile(b"q([\\x00\\x01])" + header + b"([\\x00\\x01])" + re.escape(name))
        canonical = f"q{position}".encode()
        sizes = struct.pack("!I", qreg.size) + struct.pack("!H", len(canonical))
        data = pattern.sub(_header_with(sizes, canonical), data)
    return data


def _header_with(sizes: bytes, name: bytes) -> Callable[[re.Match[bytes]], bytes]:
    """A ``re.sub`` replacement writing a register header with other sizes and name."""

    def replace(match: re.Match[bytes]) -> bytes:
        return b"q" + match.group(1) + sizes + match.group(2) + name

    return replace


_GENERATED = re.compile(
    rb"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|[0-9a-f]{32}"
)


def _canonical_generated_names(data: bytes) -> bytes:
    """QPY bytes with the random UUIDs QPY puts in custom operation names made canonical.

    QPY names the definitions of custom, controlled and annotated operations
    ``<name>_<uuid4>`` anew at every dump; each distinct one becomes a counter of the same
    length, in order of first appearance.
    """
    seen: dict[bytes, bytes] = {}

    def canonical(match: re.Match[bytes]) -> bytes:
        text = match.group(0)
        if text not in seen:
            seen[text] = str(len(seen)).encode().rjust(len(text), b"0")
        return seen[text]

    return _GENERATED.sub(canonical, data)


@functools.lru_cache(maxsize=64)
def _ids_pattern(ids: tuple[bytes, ...]) -> re.Pattern[bytes]:
    """One pattern for all of a circuit's UUIDs (a loop rerunning a circuit reuses it)."""
    return re.compile(b"|".join(re.escape(uid) for uid in ids))


def _random_ids(circuit: QuantumCircuit) -> list[bytes]:
    """The UUID bytes QPY writes for the circuit's parameters and classical variables."""
    ids = [parameter.uuid.bytes for parameter in circuit.parameters]
    variables = [*circuit.iter_vars(), *circuit.iter_stretches()]
    ids.extend(var.var.bytes for var in variables if isinstance(var.var, uuid.UUID))
    return ids


def register_layout(circuit: QuantumCircuit) -> list[tuple[str, list[int]]]:
    """``(name, clbit indices in register order)`` of every classical register, in order."""
    return [(creg.name, [circuit.find_bit(bit).index for bit in creg]) for creg in circuit.cregs]


def stored_view(stored: QuantumCircuit) -> QuantumCircuit:
    """The user's circuit as far as a stored upload tells it: without the added register.

    :func:`wire_circuit` adds at most one register, last, named ``haiqu_clbits`` (plus
    underscores when the user has one of that name), covering every clbit in order.
    """
    registers = list(stored.cregs)
    if not registers:
        return stored
    last = registers[-1]
    if last.name.rstrip("_") != CLBITS_REGISTER or list(last) != list(stored.clbits):
        return stored
    view = stored.copy()
    view.cregs = registers[:-1]
    return view
