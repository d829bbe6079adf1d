"""Pure translation functions: QPY, fingerprints, bit decoding, observables, plans, shots."""

from __future__ import annotations

import math
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from qiskit.circuit import (
    ClassicalRegister,
    Clbit,
    Gate,
    Parameter,
    ParameterVector,
    QuantumCircuit,
    QuantumRegister,
)
from qiskit.primitives import BitArray, StatevectorSampler
from qiskit.primitives.containers.observables_array import ObservablesArray
from qiskit.quantum_info import SparseObservable, SparsePauliOp, Statevector, random_statevector

from qiskit_haiqu.errors import HaiquInputError, HaiquInvalidResponseError
from qiskit_haiqu.translate.bitarrays import distributions_to_bitarrays, nearest_probabilities
from qiskit_haiqu.translate.circuits import (
    circuit_fingerprint,
    decode_circuit,
    encode_circuit,
    register_layout,
)
from qiskit_haiqu.translate.estimator_plan import plan_pub
from qiskit_haiqu.translate.observables import observables_to_wire, stds_fallback
from qiskit_haiqu.translate.precision import shots_for_precision

# -- circuits -------------------------------------------------------------------------------


def _rich_circuit() -> QuantumCircuit:
    theta = ParameterVector("t", 3)
    qc = QuantumCircuit(QuantumRegister(3), ClassicalRegister(2, "a"), ClassicalRegister(1, "b"))
    qc.rx(theta[0], 0)
    qc.ry(theta[1] * 2 + theta[2], 1)
    custom = QuantumCircuit(2, name="mine")
    custom.cx(0, 1)
    custom.rz(0.3, 1)
    qc.append(custom.to_gate(), [1, 2])
    qc.measure(0, 0)
    with qc.if_test((qc.clbits[0], 1)):
        qc.x(2)
    with qc.for_loop(range(2)):
        qc.h(1)
    qc.measure([1, 2], [1, 2])
    return qc


@pytest.mark.parametrize("version", [16, None])
def test_qpy_round_trip(version):
    qc = _rich_circuit()
    encoded = encode_circuit(qc) if version is None else encode_circuit(qc, qpy_version=version)
    assert decode_circuit(encoded) == qc


def test_qpy_version_out_of_range_is_refused():
    with pytest.raises(HaiquInputError, match="QPY version"):
        encode_circuit(QuantumCircuit(1), qpy_version=99)


def test_gate_shadowing_a_standard_name_is_refused():
    class Impostor(Gate):
        def __init__(self) -> None:
            super().__init__("x", 1, [])

    qc = QuantumCircuit(1)
    qc.append(Impostor(), [0])
    with pytest.raises(HaiquInputError, match="standard gate"):
        encode_circuit(qc)


def test_fingerprint_is_stable_across_processes():
    code = (
        "from qiskit.circuit import Parameter, QuantumCircuit;"
        "from qiskit_haiqu.translate.circuits import circuit_fingerprint;"
        "qc = QuantumCircuit(2); qc.rx(Parameter('a'), 0); qc.cx(0, 1); qc.measure_all();"
        "print(circuit_fingerprint(qc))"
    )
    other = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.strip()
    qc = QuantumCircuit(2)
    qc.rx(Parameter("a"), 0)
    qc.cx(0, 1)
    qc.measure_all()
    assert circuit_fingerprint(qc) == other
    assert other.isdigit()


def test_fingerprint_sees_what_changes_results_and_ignores_the_rest():
    def build(name: str = "a", angle: float = 0.5, creg: str = "c") -> QuantumCircuit:
        qc = QuantumCircuit(QuantumRegister(2), ClassicalRegister(2, creg))
        qc.rx(Parameter(name), 0)
        qc.ry(angle, 1)
        qc.measure([0, 1], [0, 1])
        return qc

    base = circuit_fingerprint(build())
    renamed = build()
    renamed.name = "other"
    renamed.metadata = {"x": 1}
    assert circuit_fingerprint(renamed) == base
    assert circuit_fingerprint(build(name="b")) != base
    assert circuit_fingerprint(build(angle=0.50000001)) != base
    assert circuit_fingerprint(build(creg="d")) != base


def test_register_layout_uses_real_clbit_positions():
    bits = [Clbit() for _ in range(3)]
    qc = QuantumCircuit(bits)
    qc.add_register(ClassicalRegister(name="odd", bits=[bits[2], bits[0]]))
    assert register_layout(qc) == [("odd", [2, 0])]


# -- decoding -------------------------------------------------------------------------------


@st.composite
def layouts(draw: st.DrawFn) -> tuple[int, list[tuple[str, list[int]]]]:
    width = draw(st.integers(1, 12))
    count = draw(st.integers(1, 3))
    regs = []
    for k in range(count):
        size = draw(st.integers(1, width))
        bits = draw(st.permutations(range(width)))[:size]
        regs.append((f"r{k}", list(bits)))
    return width, regs


@settings(max_examples=60, deadline=None)
@given(layouts(), st.data())
def test_decoding_matches_independent_per_register_counts(layout, data):
    width, regs = layout
    shots = data.draw(st.integers(1, 50))
    outcomes = data.draw(st.lists(st.integers(0, 2**width - 1), min_size=1, max_size=6))
    counts: dict[int, int] = {}
    for i in range(shots):
        value = outcomes[i % len(outcomes)]
        counts[value] = counts.get(value, 0) + 1
    style = data.draw(st.sampled_from(["joined", "hex", "short"]))
    keys = {
        "joined": lambda v: format(v, f"0{width}b"),
        "hex": hex,
        "short": lambda v: format(v, "b"),
    }[style]
    dist = {keys(v): c / shots for v, c in counts.items()}
    decoded = distributions_to_bitarrays(
        [dist], shots=shots, num_clbits=width, layout=regs, shape=(), seed=3
    )
    assert decoded.exact
    for name, bits in regs:
        expected: dict[str, int] = {}
        for value, c in counts.items():
            key = "".join(str((value >> b) & 1) for b in reversed(bits))
            expected[key] = expected.get(key, 0) + c
        assert decoded.arrays[name].get_counts() == expected
        assert decoded.arrays[name].num_shots == shots


def test_decoding_agrees_with_statevector_sampler_on_registers():
    bits = [Clbit() for _ in range(4)]
    qc = QuantumCircuit(QuantumRegister(4), bits)
    qc.add_register(ClassicalRegister(name="even", bits=[bits[0], bits[2]]))
    qc.add_register(ClassicalRegister(name="odd", bits=[bits[3], bits[1]]))
    qc.x([0, 1])
    qc.measure(range(4), range(4))
    reference = StatevectorSampler().run([qc], shots=8).result()[0]
    full = format(0b0011, "04b")
    for key in (full, "0x3", "11", f"{full[:2]} {full[2:]}"):
        ours = distributions_to_bitarrays(
            [{key: 1.0}], shots=8, num_clbits=4, layout=register_layout(qc), shape=()
        )
        for name in ("even", "odd"):
            assert ours.arrays[name].get_counts() == reference.data[name].get_counts()


def test_packing_matches_bitarray_from_counts():
    ours = distributions_to_bitarrays(
        [{"1000000001": 1.0}], shots=3, num_clbits=10, layout=[("c", list(range(10)))], shape=()
    ).arrays["c"]
    theirs = BitArray.from_counts({"1000000001": 3}, num_bits=10)
    np.testing.assert_array_equal(ours.array, theirs.array)


def test_quasi_probabilities_become_exactly_shots_samples():
    dist = {"00": 0.52, "11": 0.51, "01": -0.03}
    decoded = distributions_to_bitarrays(
        [dist], shots=1001, num_clbits=2, layout=[("m", [0, 1])], shape=()
    )
    counts = decoded.arrays["m"].get_counts()
    assert sum(counts.values()) == 1001
    assert "01" not in counts
    assert not decoded.exact
    assert decoded.quasi_dists == [dist]


def test_nearest_probabilities_is_a_distribution_close_to_the_input():
    projected = nearest_probabilities(np.array([0.6, 0.5, -0.1]))
    assert projected.min() >= 0
    assert math.isclose(projected.sum(), 1.0)
    np.testing.assert_allclose(projected, [0.55, 0.45, 0.0])


def test_seed_orders_samples_reproducibly_and_shapes_follow_the_pub():
    dists = [{"0": 0.5, "1": 0.5}] * 6

    def run(seed: int) -> np.ndarray:
        return (
            distributions_to_bitarrays(
                dists, shots=20, num_clbits=1, layout=[("c", [0])], shape=(2, 3), seed=seed
            )
            .arrays["c"]
            .array
        )

    assert run(1).shape == (2, 3, 20, 1)
    np.testing.assert_array_equal(run(1), run(1))
    assert not np.array_equal(run(1), run(2))


def test_unreadable_keys_are_reported():
    with pytest.raises(HaiquInvalidResponseError, match="'2x'"):
        distributions_to_bitarrays([{"2x": 1.0}], shots=1, num_clbits=2, layout=[], shape=())
    with pytest.raises(HaiquInvalidResponseError, match="wider"):
        distributions_to_bitarrays([{"111": 1.0}], shots=1, num_clbits=2, layout=[], shape=())


# -- observables, plans, shots -------------------------------------------------------------


@pytest.mark.parametrize(
    "observable",
    [
        "XZ",
        SparsePauliOp(["XZ", "II", "YY"], [0.5, 0.25, -1.0]),
        SparseObservable.from_list([("0+", 2.0), ("rZ", 1.0)]),
        {"XZ": 1.0, "ZZ": -0.5},
    ],
)
def test_wire_pairs_give_the_same_expectation_values(observable):
    array = ObservablesArray.coerce(observable)
    pairs, index = observables_to_wire(array, 2)
    state = random_statevector(4, seed=9)
    ours = [state.expectation_value(SparsePauliOp(labels, coeffs)).real for labels, coeffs in pairs]
    element = array.sparse_observables_array()[()]
    exact = np.vdot(
        state.data, SparsePauliOp.from_sparse_observable(element).to_matrix() @ state.data
    ).real
    assert math.isclose(ours[int(index[()])], exact, abs_tol=1e-9)
    for labels, coeffs in pairs:
        assert all(len(label) == 2 and set(label) <= set("IXYZ") for label in labels)
        assert coeffs.dtype == np.float64


def test_little_endian_labels():
    pairs, _ = observables_to_wire(ObservablesArray.coerce(SparsePauliOp("IZ")), 2)
    assert pairs[0][0] == ["IZ"]  # Z on qubit 0 is the rightmost character
    state = Statevector.from_label("01")  # qubit 0 in |1>
    assert state.expectation_value(SparsePauliOp(*pairs[0])).real == pytest.approx(-1.0)


def test_duplicate_observables_are_converted_once():
    array = ObservablesArray.coerce(["ZZ", "XX", "ZZ", "XX"])
    pairs, index = observables_to_wire(array, 2)
    assert len(pairs) == 2
    assert index.tolist() == [0, 1, 0, 1]


def test_width_mismatch_names_both_widths_and_the_fix():
    with pytest.raises(ValueError, match=r"circuit \(3\).*observable \(2\).*apply_layout"):
        observables_to_wire(ObservablesArray.coerce("ZZ"), 3)


@settings(max_examples=80, deadline=None)
@given(st.data())
def test_plan_asks_exactly_the_needed_pairs_and_scatters_back(data):
    obs_shape = tuple(data.draw(st.lists(st.sampled_from([1, 2, 3]), max_size=2)))
    row_shape = tuple(data.draw(st.lists(st.sampled_from([1, 2, 3]), max_size=2)))
    try:
        np.broadcast_shapes(obs_shape, row_shape)
    except ValueError:
        return
    distinct = data.draw(st.integers(1, 4))
    size = math.prod(obs_shape)
    obs_index = np.array(
        data.draw(st.lists(st.integers(0, distinct - 1), min_size=size, max_size=size))
    ).reshape(obs_shape)
    plan = plan_pub(obs_index, row_shape)
    rows = np.arange(math.prod(row_shape)).reshape(row_shape)
    o, r = np.broadcast_arrays(obs_index, rows)
    needed = {(int(a), int(b)) for a, b in zip(o.ravel(), r.ravel(), strict=True)}
    assert plan.evaluations == len(needed)
    values = [np.add.outer(10.0 * e.obs_ids, e.row_ids) for e in plan.entries]
    np.testing.assert_array_equal(plan.gather(values), 10.0 * o + r)


def test_zip_of_100_asks_100_not_10000():
    plan = plan_pub(np.arange(100), (100,))
    assert plan.evaluations == 100
    assert plan_pub(np.arange(100).reshape(100, 1), (1, 100)).evaluations == 10_000
    assert len(plan_pub(np.arange(100).reshape(100, 1), (1, 100)).entries) == 1


@pytest.mark.parametrize(
    ("precision", "shots"),
    [(0.015625, 4096), (0.01, 10_000), (1 / math.sqrt(1000), 1000), (0.1, 100), (0.03, 1112)],
)
def test_precision_to_shots_without_drift(precision, shots):
    assert shots_for_precision(precision) == shots


@pytest.mark.parametrize(
    ("precision", "error"),
    [(0, ValueError), (-1, ValueError), (float("nan"), ValueError), ("x", TypeError)],
)
def test_invalid_precision(precision, error):
    with pytest.raises(error):
        shots_for_precision(precision)


def test_stds_fallback_is_exact_for_one_pauli_and_a_bound_for_sums():
    single = [(["Z"], np.array([2.0]))]
    stds = stds_fallback(np.array([[1.0]]), single, shots=100)  # <Z> = 0.5
    assert stds[0, 0] == pytest.approx(2.0 * math.sqrt(1 - 0.25) / 10)
    summed = [(["ZI", "IZ", "II"], np.array([1.0, -3.0, 5.0]))]
    assert stds_fallback(np.array([[0.0]]), summed, shots=100)[0, 0] == pytest.approx(0.4)
    identity = [(["II"], np.array([1.0]))]
    assert stds_fallback(np.array([[1.0]]), identity, shots=100)[0, 0] == 0.0
