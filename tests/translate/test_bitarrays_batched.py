"""Rows decoded a chunk at a time give exactly the samples of an independent per-row oracle.

The oracle never reads a key: it builds each row's samples from the clbit integers the keys
were written from (grouped by outcome in key order, whole counts, or nearest probabilities
and largest remainder for quasi-probabilities), packs them with Qiskit's
``BitArray.from_samples`` and orders them with one ``np.random.default_rng(seed)`` drawing
``permutation(shots)`` per row in row order. The keys are written by Qiskit's
``format_counts_memory`` for the circuit as uploaded, or joined, hex, short or long binary.
"""

from __future__ import annotations

import math
import random
import weakref
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any
from unittest import mock

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from qiskit.circuit import ClassicalRegister, Clbit, QuantumCircuit
from qiskit.primitives import BitArray
from qiskit.result.postprocess import format_counts_memory

from qiskit_haiqu.errors import HaiquInvalidResponseError
from qiskit_haiqu.translate import bitarrays
from qiskit_haiqu.translate.bitarrays import distributions_to_bitarrays, nearest_probabilities
from qiskit_haiqu.translate.circuits import register_layout, wire_circuit


def _get_counts_key(circuit: QuantumCircuit, value: int) -> str:
    wire = wire_circuit(circuit)
    header = {
        "creg_sizes": [[creg.name, creg.size] for creg in wire.cregs],
        "memory_slots": wire.num_clbits,
    }
    return str(format_counts_memory(hex(value), header))


WRITERS = {
    "get_counts": _get_counts_key,
    "joined": lambda c, v: format(v, f"0{c.num_clbits}b") if c.num_clbits else "",
    "hex": lambda c, v: hex(v),
    "short": lambda c, v: format(v, "b"),
    "long": lambda c, v: format(v, f"0{c.num_clbits + 2}b"),
}


def _circuit(width: int, registers: dict[str, list[int]]) -> QuantumCircuit:
    bits = [Clbit() for _ in range(width)]
    circuit = QuantumCircuit(bits)
    for name, members in registers.items():
        circuit.add_register(ClassicalRegister(name=name, bits=[bits[m] for m in members]))
    return circuit


CIRCUITS = {
    "one_clbit": _circuit(1, {"meas": [0]}),
    "tiling": _circuit(5, {"c0": [0, 1], "c1": [2, 3, 4]}),
    # get_counts keys "c1 c0" of two bytes: the previous decoder raised ValueError on them
    "tiling_two_bytes": _circuit(10, {"c0": [0, 1, 2, 3, 4], "c1": [5, 6, 7, 8, 9]}),
    # out of order, a loose clbit and a zero-width register: keys carry the whole string
    "scattered": _circuit(6, {"a": [3, 0, 5], "z": [], "b": [1, 2]}),
    "scattered_two_bytes": _circuit(12, {"a": [11, 0, 5, 7], "b": [1, 2, 3]}),
    "wide": _circuit(70, {"lo": list(range(40)), "hi": list(range(40, 70)), "odd": [69, 3, 41]}),
}


@dataclass
class Row:
    """One row as the oracle sees it: outcomes (clbit integers) and their values."""

    values: list[int]
    probs: list[float]


def _is_exact(probs: list[float], shots: int) -> bool:
    scaled = [p * shots for p in probs]
    return (
        all(p >= 0 for p in probs)
        and all(abs(s - round(s)) <= 1e-6 for s in scaled)
        and sum(round(s) for s in scaled) == shots
    )


def _oracle_counts(probs: list[float], shots: int) -> list[int]:
    """Whole counts: exact ones as they are, else nearest probabilities + largest remainder."""
    if _is_exact(probs, shots):
        return [round(p * shots) for p in probs]
    nearest = [float(q) * shots for q in nearest_probabilities(np.array(probs))]
    counts = [math.floor(s) for s in nearest]
    missing = shots - sum(counts)
    if missing > 0:
        by_remainder = sorted(range(len(counts)), key=lambda i: (-(nearest[i] - counts[i]), i))
        for i in by_remainder[:missing]:
            counts[i] += 1
    for i in sorted(range(len(counts)), key=lambda i: (-counts[i], i))[: max(0, -missing)]:
        counts[i] -= 1
    return counts


def _register_samples(samples: list[int], bits: list[int]) -> np.ndarray:
    """One register's packed samples, by Qiskit."""
    if not bits:
        return np.zeros((len(samples), 0), dtype=np.uint8)
    values = [sum(((v >> b) & 1) << i for i, b in enumerate(bits)) for v in samples]
    return BitArray.from_samples(values, num_bits=len(bits)).array


def _oracle(
    circuit: QuantumCircuit, rows: list[Row], shots: int, shape: tuple[int, ...], seed: int | None
) -> dict[str, np.ndarray]:
    """Every register's expected packed array."""
    rng = None if seed is None else np.random.default_rng(seed)
    per_row: dict[str, list[np.ndarray]] = {name: [] for name, _ in register_layout(circuit)}
    for row in rows:
        counts = _oracle_counts(row.probs, shots)
        grouped = [v for v, c in zip(row.values, counts, strict=True) for _ in range(c)]
        if rng is not None:
            order = rng.permutation(shots)
            grouped = [grouped[i] for i in order]
        for name, bits in register_layout(circuit):
            per_row[name].append(_register_samples(grouped, bits))
    return {
        name: np.stack(arrays).reshape(*shape, *arrays[0].shape) for name, arrays in per_row.items()
    }


def _dists(circuit: QuantumCircuit, rows: list[Row], writer: str) -> list[dict[str, float]]:
    write = WRITERS[writer]
    return [
        {write(circuit, v): p for v, p in zip(row.values, row.probs, strict=True)} for row in rows
    ]


def _check(
    circuit: QuantumCircuit,
    rows: list[Row],
    shots: int,
    *,
    writer: str = "joined",
    seed: int | None = None,
    shape: tuple[int, ...] | None = None,
) -> bitarrays.DecodedSamples:
    shape = (len(rows),) if shape is None else shape
    dists = _dists(circuit, rows, writer)
    decoded = distributions_to_bitarrays(
        dists,
        shots=shots,
        num_clbits=circuit.num_clbits,
        layout=register_layout(circuit),
        shape=shape,
        seed=seed,
    )
    expected = _oracle(circuit, rows, shots, shape, seed)
    assert list(decoded.arrays) == list(expected)
    for name, bits in register_layout(circuit):
        array = decoded.arrays[name]
        assert array.num_bits == len(bits)
        assert array.array.shape == expected[name].shape, name
        np.testing.assert_array_equal(array.array, expected[name], err_msg=name)
    exact = all(_is_exact(row.probs, shots) for row in rows)
    assert decoded.exact == exact
    assert decoded.quasi_dists == (None if exact else dists)
    return decoded


def _outcomes(rnd: random.Random, width: int, count: int) -> list[int]:
    """``count`` distinct clbit integers (fewer if the clbits cannot hold them)."""
    found: dict[int, None] = {}
    while len(found) < min(count, 2**width):
        found[rnd.getrandbits(width)] = None
    return list(found)


def _exact_row(rnd: random.Random, width: int, shots: int, outcomes: int) -> Row:
    """``shots`` draws from a few outcomes, keyed in the order they were first drawn."""
    counts = Counter(rnd.choices(_outcomes(rnd, width, outcomes), k=shots))
    return Row(list(counts), [c / shots for c in counts.values()])


def _quasi_row(rnd: random.Random, width: int, outcomes: int) -> Row:
    values = _outcomes(rnd, width, outcomes)
    return Row(values, [rnd.uniform(-0.2, 0.8) for _ in values])


@pytest.mark.parametrize("seed", [None, 7])
def test_many_tiny_rows(seed):
    rnd = random.Random(1)
    rows = [_exact_row(rnd, 1, 8, 2) for _ in range(6000)]  # a few chunks
    assert sum(len(row.values) for row in rows) > 1.2 * bitarrays._CHUNK_OUTCOMES
    _check(CIRCUITS["one_clbit"], rows, 8, seed=seed, shape=(60, 100))


@pytest.mark.parametrize("seed", [None, 2**63 + 11])
@pytest.mark.parametrize("writer", sorted(WRITERS))
@pytest.mark.parametrize("name", sorted(CIRCUITS))
def test_every_key_format_and_layout(name, writer, seed):
    circuit = CIRCUITS[name]
    rnd = random.Random(f"{name}:{writer}")
    width = circuit.num_clbits
    rows = [_exact_row(rnd, width, 24, rnd.randint(1, 5)) for _ in range(40)]
    rows[17] = _quasi_row(rnd, width, 5)
    _check(circuit, rows, 24, writer=writer, seed=seed)


@pytest.mark.parametrize("seed", [None, 3])
def test_a_quasi_row_inside_a_batch_of_exact_rows(seed):
    rnd = random.Random(5)
    rows = [_exact_row(rnd, 5, 16, 3) for _ in range(200)]
    rows[101] = Row([0, 1, 7], [0.7, 0.4, -0.1])
    rows[150] = Row([3, 4], [0.5, 0.25])  # sums to 0.75: not exact either
    decoded = _check(CIRCUITS["tiling"], rows, 16, seed=seed)
    assert not decoded.exact


def test_rows_bigger_than_a_chunk_decode_as_the_oracle():
    rnd = random.Random(9)
    rows = [_exact_row(rnd, 14, 30_000, 10_000) for _ in range(3)]
    assert min(len(row.values) for row in rows) > bitarrays._CHUNK_OUTCOMES
    _check(_circuit(14, {"meas": list(range(14))}), rows, 30_000, seed=4)


@st.composite
def circuits(draw: st.DrawFn) -> QuantumCircuit:
    """Clbits with registers over any of them: loose, partial, overlapping, empty."""
    width = draw(st.sampled_from([1, 2, 3, 5, 8, 9, 17, 66]))
    registers = {}
    for index in range(draw(st.integers(1, 3))):
        members = draw(st.lists(st.integers(0, width - 1), max_size=min(width, 6), unique=True))
        registers[f"r{index}"] = members
    return _circuit(width, registers)


@st.composite
def batches(draw: st.DrawFn) -> tuple[QuantumCircuit, list[Row], int]:
    circuit = draw(circuits())
    shots = draw(st.integers(1, 20))
    top = 2**circuit.num_clbits - 1
    rows = []
    for _ in range(draw(st.integers(1, 12))):
        values = draw(st.lists(st.integers(0, top), min_size=1, max_size=5, unique=True))
        if draw(st.booleans()):  # exact: counts over the outcomes, some maybe zero
            cuts = sorted(draw(st.lists(st.integers(0, shots), min_size=len(values) - 1)))
            counts = np.diff([0, *cuts[: len(values) - 1], shots]).tolist()
            rows.append(Row(values, [c / shots for c in counts]))
        else:
            probs = draw(st.lists(st.floats(-0.3, 1.0), min_size=len(values), max_size=5))
            rows.append(Row(values, probs[: len(values)]))
    return circuit, rows, shots


@settings(max_examples=60, deadline=None, derandomize=True)
@given(
    batch=batches(),
    writer=st.sampled_from(sorted(WRITERS)),
    seed=st.one_of(st.none(), st.integers(0, 2**64 - 1)),
    limits=st.sampled_from([(1, 1), (7, 30), (4096, 10**6), None]),
)
def test_random_batches_decode_as_the_oracle(batch, writer, seed, limits):
    circuit, rows, shots = batch
    outcomes, samples = limits or (bitarrays._CHUNK_OUTCOMES, bitarrays._CHUNK_SAMPLES)
    with (
        mock.patch.object(bitarrays, "_CHUNK_OUTCOMES", outcomes),
        mock.patch.object(bitarrays, "_CHUNK_SAMPLES", samples),
    ):
        _check(circuit, rows, shots, writer=writer, seed=seed)


def _decode(dists: Sequence[Any], circuit: QuantumCircuit, shots: int) -> Any:
    return distributions_to_bitarrays(
        dists,
        shots=shots,
        num_clbits=circuit.num_clbits,
        layout=register_layout(circuit),
        shape=(len(dists),),
    )


@settings(max_examples=40, deadline=None, derandomize=True)
@given(batch=batches(), writers=st.lists(st.sampled_from(sorted(WRITERS)), min_size=12))
def test_a_batch_of_rows_in_any_formats_decodes_as_its_rows_one_by_one(batch, writers):
    """Rows keyed in different formats in one chunk read as each row alone reads."""
    circuit, rows, shots = batch
    dists = [_dists(circuit, [row], writer)[0] for row, writer in zip(rows, writers, strict=False)]
    together = _decode(dists, circuit, shots)
    alone = [_decode([dist], circuit, shots) for dist in dists]
    assert together.exact == all(one.exact for one in alone)
    for name, _ in register_layout(circuit):
        stacked = np.stack([one.arrays[name].array[0] for one in alone])
        np.testing.assert_array_equal(together.arrays[name].array, stacked)


TILING = CIRCUITS["tiling"]
GOOD = {"00000": 0.5, "00011": 0.5}


@pytest.mark.parametrize(
    ("bad_rows", "match"),
    [
        ({5: {}}, "empty distribution"),
        ({5: {"00001": float("nan")}}, "not a finite number"),
        ({5: {"00001": None}}, "not a finite number"),
        ({5: {"00001": 1e308, "00000": 1e308}}, "too large to be read as 4 shots"),
        ({5: {"00001": "half"}}, "not numbers"),
        ({5: {"00002": 1.0}}, "neither a binary nor a hex"),
        ({5: {"100001": 1.0}}, "wider"),
        ({5: {"0 0 1": 1.0}}, "fit no layout"),
        # the first bad row's error, whatever the later rows' (values are read first)
        ({3: {"00002": 1.0}, 6: {"00001": "half"}}, "neither a binary nor a hex"),
        ({3: {"00001": float("inf")}, 6: {}}, "not a finite number"),
        ({2: {"0000x": 1.0}, 9: {"00001": None}}, "neither a binary nor a hex"),
    ],
)
def test_the_first_bad_row_of_a_batch_raises_its_own_error(bad_rows, match):
    dists = [dict(GOOD) for _ in range(12)]
    for index, bad in bad_rows.items():
        dists[index] = bad
    with pytest.raises(HaiquInvalidResponseError, match=match) as caught:
        _decode(dists, TILING, 4)
    with pytest.raises(HaiquInvalidResponseError) as alone:
        _decode([dists[min(bad_rows)]], TILING, 4)
    assert str(caught.value) == str(alone.value)


@pytest.mark.parametrize("shots", [0, -3])
def test_a_job_said_to_have_run_no_shots_is_refused(shots):
    with pytest.raises(HaiquInvalidResponseError, match=f"ran {shots} shots"):
        _decode([dict(GOOD)], TILING, shots)


def test_a_pub_of_no_rows_decodes_to_empty_bitarrays_of_its_shape():
    decoded = distributions_to_bitarrays(
        [], shots=4, num_clbits=5, layout=register_layout(TILING), shape=(0, 3)
    )
    for name, bits in register_layout(TILING):
        array = decoded.arrays[name]
        assert (array.shape, array.num_shots, array.num_bits) == ((0, 3), 4, len(bits))


class TrackedRows(Sequence[dict[str, float]]):
    """Rows made afresh on every read, recording how many are alive at once."""

    class Row(dict[str, float]):
        """A dict that can be weakly referenced."""

    def __init__(self, rows: list[dict[str, float]]) -> None:
        self._rows = rows
        self.reads = 0
        self.alive = 0
        self.most_alive = 0

    def __len__(self) -> int:
        return len(self._rows)

    def __getitem__(self, index: Any) -> Any:
        raise AssertionError("rows are read in order, by iteration")

    def _release(self) -> None:
        self.alive -= 1

    def __iter__(self) -> Iterator[dict[str, float]]:
        for data in self._rows:
            row = self.Row(data)
            weakref.finalize(row, self._release)
            self.reads += 1
            self.alive += 1
            self.most_alive = max(self.most_alive, self.alive)
            yield row
            del row


def test_rows_are_read_once_and_only_a_chunk_of_them_is_alive_at_once():
    rnd = random.Random(2)
    rows = [_exact_row(rnd, 8, 64, 30) for _ in range(60)]
    circuit = _circuit(8, {"meas": list(range(8))})
    tracked = TrackedRows(_dists(circuit, rows, "joined"))
    with mock.patch.object(bitarrays, "_CHUNK_OUTCOMES", 100):
        decoded = distributions_to_bitarrays(
            tracked, shots=64, num_clbits=8, layout=register_layout(circuit), shape=(60,), seed=1
        )
    assert tracked.reads == 60
    assert tracked.most_alive <= 5  # a chunk of <= 100 outcomes (rows of ~30) and the next row
    np.testing.assert_array_equal(
        decoded.arrays["meas"].array, _oracle(circuit, rows, 64, (60,), 1)["meas"]
    )


def _outcome(dists: list[dict[str, float]], circuit: QuantumCircuit) -> Any:
    """The arrays decoded, or the error raised (whatever its type)."""
    try:
        decoded = _decode(dists, circuit, 4)
    except Exception as error:  # compared, not handled
        return type(error), str(error)
    return [array.array for array in decoded.arrays.values()]


def _per_register_key(circuit: QuantumCircuit, value: int) -> str:
    """Each register's own bits as a group, last register first (no whole-string group)."""
    groups = []
    for _, bits in reversed(register_layout(circuit)):
        groups.append("".join(str((value >> b) & 1) for b in reversed(bits)))
    return " ".join(groups)


WIDE_SPLIT = _circuit(66, {"a": list(range(10)), "b": list(range(20, 30))})


THREE = _circuit(3, {"c": [0, 1, 2]})
UNEVEN = {"101": 0.25, "1": 0.25, "00011": 0.5}  # short and long keys that fill a matrix
PLAIN = {hex(5): 0.5, "110": 0.5}


@pytest.mark.parametrize(
    ("circuit", "dists"),
    [
        (THREE, [PLAIN, UNEVEN, PLAIN, UNEVEN]),
        # even rows first: the batch's keys fill a matrix, a row's alone do not
        (THREE, [{"101": 0.5, "011": 0.5}, {"1": 0.5, "00011": 0.5}]),
        # per-register groups of registers that do not tile the clbits, past 64 clbits
        (WIDE_SPLIT, [{hex(5): 1.0}, {_per_register_key(WIDE_SPLIT, 2**25 + 3): 1.0}]),
    ],
)
def test_odd_keys_read_in_a_batch_as_their_row_alone_reads_them(circuit, dists):
    """Keys each row reads in its own way (even wrongly) read the same way in a batch."""
    together = _outcome(dists, circuit)
    alone = [_outcome([dist], circuit) for dist in dists]
    failed = [one for one in alone if isinstance(one, tuple)]
    if failed:
        assert together == failed[0]
    else:
        for index, one in enumerate(alone):
            for array, row in zip(together, one, strict=True):
                np.testing.assert_array_equal(array[index], row[0])


def test_keys_of_uneven_lengths_are_read_one_by_one_even_when_their_lengths_add_up():
    """Three keys of 3 + 1 + 5 characters fill a 3-wide matrix; each still reads alone."""
    circuit = _circuit(3, {"meas": [0, 1, 2]})
    dist = {"101": 0.5, "1": 0.25, "00011": 0.25}  # "1" is 001, "00011" is 011
    decoded = _decode([dist], circuit, 4)
    assert decoded.arrays["meas"].get_counts() == {"101": 2, "001": 1, "011": 1}


def test_register_groups_that_do_not_cover_every_clbit_are_refused():
    """Two 2-bit registers on 5 clbits: "01 10" is not the clbit string, never guessed."""
    circuit = _circuit(5, {"c0": [0, 1], "c1": [2, 3]})
    with pytest.raises(HaiquInvalidResponseError, match="fit no layout"):
        _decode([{"01 10": 1.0}], circuit, 4)
    with pytest.raises(HaiquInvalidResponseError, match="fit no layout"):
        _decode([{"01 10": 0.5, "11 00": 0.5}] * 3, circuit, 4)
