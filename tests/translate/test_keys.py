"""Result keys in every format a Qiskit-based service may write decode to the right registers.

The writer under test is Qiskit's own (``Result.get_counts`` formats keys with
``format_counts_memory``), applied to the circuit as we upload it (``wire_circuit``); the
expected register values come from the clbit integer itself.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from qiskit.circuit import ClassicalRegister, Clbit, QuantumCircuit
from qiskit.primitives import BitArray
from qiskit.result.postprocess import format_counts_memory

from qiskit_haiqu.errors import HaiquInvalidResponseError
from qiskit_haiqu.translate.bitarrays import distributions_to_bitarrays
from qiskit_haiqu.translate.circuits import register_layout, wire_circuit


def _get_counts_key(circuit: QuantumCircuit, value: int) -> str:
    header = {
        "creg_sizes": [[creg.name, creg.size] for creg in circuit.cregs],
        "memory_slots": circuit.num_clbits,
    }
    return str(format_counts_memory(hex(value), header))


def _per_register_key(circuit: QuantumCircuit, value: int) -> str:
    """A server that writes each register's own bits as its group (last register first)."""
    groups = []
    for creg in reversed(circuit.cregs):
        bits = [circuit.find_bit(bit).index for bit in creg]
        groups.append("".join(str((value >> b) & 1) for b in reversed(bits)))
    return " ".join(groups)


WRITERS = {
    "get_counts": _get_counts_key,
    "full": lambda c, v: format(v, f"0{c.num_clbits}b") if c.num_clbits else "",
    "hex": lambda c, v: hex(v),
    "per_register": _per_register_key,
}


@st.composite
def classical_layouts(draw: st.DrawFn) -> QuantumCircuit:
    """Clbits with registers over any of them: loose, partial, overlapping, gaps, empty."""
    width = draw(st.integers(0, 7))
    bits = [Clbit() for _ in range(width)]
    qc = QuantumCircuit(bits)
    for index in range(draw(st.integers(0, 3))):
        members = draw(st.lists(st.integers(0, max(width - 1, 0)), max_size=width, unique=True))
        qc.add_register(ClassicalRegister(name=f"r{index}", bits=[bits[m] for m in members]))
    return qc


def _decode(circuit: QuantumCircuit, writer: str, values: list[int]) -> dict[str, list[int]]:
    wire = wire_circuit(circuit)
    keys = [WRITERS[writer](wire, v) for v in values]
    dist: dict[str, float] = {}
    for key in keys:
        dist[key] = dist.get(key, 0.0) + 1 / len(keys)
    decoded = distributions_to_bitarrays(
        [dist],
        shots=len(keys),
        num_clbits=circuit.num_clbits,
        layout=register_layout(circuit),
        shape=(),
    )
    return {name: _values(array) for name, array in decoded.arrays.items()}


def _values(array: BitArray) -> list[int]:
    if array.num_bits == 0:  # BitArray.get_int_counts fails on zero width (Qiskit's own bug)
        return [0] * array.num_shots
    return sorted(value for value, count in array.get_int_counts().items() for _ in range(count))


def _expected(circuit: QuantumCircuit, values: list[int]) -> dict[str, list[int]]:
    out = {}
    for name, bits in register_layout(circuit):
        out[name] = sorted(
            sum(((v >> b) & 1) << position for position, b in enumerate(bits)) for v in values
        )
    return out


@pytest.mark.parametrize("writer", sorted(WRITERS))
@settings(max_examples=80, deadline=None, derandomize=True)
@given(circuit=classical_layouts(), data=st.data())
def test_every_writer_and_layout_decodes_to_the_registers_bits(writer, circuit, data):
    top = max(1, 2**circuit.num_clbits)
    values = data.draw(st.lists(st.integers(0, top - 1), min_size=1, max_size=6, unique=True))
    assert _decode(circuit, writer, values) == _expected(circuit, values)


def test_the_layouts_the_old_decoder_shifted():
    # a loose clbit after the register: get_counts leaves it out
    loose_last = QuantumCircuit(ClassicalRegister(2, "c"), [Clbit()])
    assert _decode(loose_last, "get_counts", [0b011]) == {"c": [0b11]}
    # a loose clbit between two registers
    c, d = ClassicalRegister(2, "c"), ClassicalRegister(1, "d")
    between = QuantumCircuit(c, [Clbit()], d)
    assert _decode(between, "get_counts", [0b1001]) == {"c": [0b01], "d": [0b1]}


def test_a_key_that_fits_no_reading_is_refused():
    qc = QuantumCircuit(ClassicalRegister(2, "a"), ClassicalRegister(2, "b"))
    with pytest.raises(HaiquInvalidResponseError, match="fit no layout"):
        distributions_to_bitarrays(
            [{"1 011": 1.0}], shots=1, num_clbits=4, layout=register_layout(qc), shape=()
        )


def test_registers_of_one_shot_stay_together_when_samples_are_shuffled():
    """Each shot's registers come from the same outcome (a Bell pair split in two)."""
    qc = QuantumCircuit(ClassicalRegister(1, "a"), ClassicalRegister(1, "b"))
    decoded = distributions_to_bitarrays(
        [{"0 0": 0.5, "1 1": 0.5}] * 3,
        shots=1000,
        num_clbits=2,
        layout=register_layout(qc),
        shape=(3,),
        seed=11,
    )
    a, b = decoded.arrays["a"].array, decoded.arrays["b"].array
    assert (a == b).all()
    assert 0 < int(a[0].sum()) < 1000  # shuffled, not 500 zeros then 500 ones
    assert (a[0, :500] == 0).any()
    assert (a[0, :500] == 1).any()
