"""Expectation values of non-unitary circuits are those of the whole mixture.

A reset, a mid-circuit measurement or classical feed-forward turns the state into a mixture;
one random trajectory of it is not the expectation value. The exact references come from
``qiskit.quantum_info.DensityMatrix``; a measurement is deferred there (copied onto an
ancilla that is traced out, and the feed-forward controlled by it).
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest
from qiskit import ClassicalRegister, QuantumCircuit, QuantumRegister
from qiskit.circuit import Parameter
from qiskit.quantum_info import DensityMatrix, SparsePauliOp, partial_trace

from ._servers import emulator_api
from ._support import Api

LABELS = ["ZI", "IZ", "XX", "ZZ", "IX"]
FEED_LABELS = ["ZII", "IZI", "IIZ", "XII", "IIX", "ZIZ", "XZI"]


def _reset(theta: float | Parameter = 0.0) -> QuantumCircuit:
    """Entangle, then reset qubit 0: qubit 1 is left mixed."""
    circuit = QuantumCircuit(2)
    circuit.ry(theta, 0)
    circuit.h(0)
    circuit.cx(0, 1)
    circuit.reset(0)
    circuit.ry(0.6, 0)
    return circuit


def _feed_forward(theta: float | Parameter = 1.1) -> QuantumCircuit:
    """Measure qubit 0 mid-circuit and act on qubits 1 and 2 when it reads 1."""
    circuit = QuantumCircuit(QuantumRegister(3, "q"), ClassicalRegister(1, "c"))
    circuit.ry(theta, 0)
    circuit.measure(0, 0)
    with circuit.if_test((circuit.clbits[0], 1)):
        circuit.x(1)
        circuit.h(2)
    circuit.ry(0.5, 0)
    circuit.rx(0.3, 2)
    return circuit


def _feed_forward_deferred(theta: float) -> QuantumCircuit:
    """:func:`_feed_forward` with the measurement deferred onto ancilla qubit 3."""
    circuit = QuantumCircuit(4)
    circuit.ry(theta, 0)
    circuit.cx(0, 3)
    circuit.cx(3, 1)
    circuit.ch(3, 2)
    circuit.ry(0.5, 0)
    circuit.rx(0.3, 2)
    return circuit


def _exact(state: DensityMatrix, labels: list[str]) -> np.ndarray:
    return np.array([float(np.real(state.expectation_value(SparsePauliOp(x)))) for x in labels])


def _exact_reset(theta: float) -> np.ndarray:
    return _exact(DensityMatrix(_reset(theta)), LABELS)


def _exact_feed_forward(theta: float) -> np.ndarray:
    return _exact(partial_trace(DensityMatrix(_feed_forward_deferred(theta)), [3]), FEED_LABELS)


def _observables(labels: list[str]) -> list[list[list[object]]]:
    return [[[label], [1.0]] for label in labels]


def _estimate(
    api: Api,
    circuit: QuantumCircuit,
    labels: list[str],
    shots: int,
    rows: list[list[float]] | None = None,
    seed: int = 3,
) -> tuple[np.ndarray, np.ndarray]:
    """Values and uncertainties, shaped (observables,) or (observables, rows)."""
    exp_id = api.experiment()
    circuit_id = api.upload(exp_id, circuit)
    body: dict[str, object] = {
        "experiment_id": exp_id,
        "circuit_ids": [circuit_id],
        "shots": shots,
        "observables": [_observables(labels)],
        "options": {"seed_simulator": seed},
    }
    if rows is not None:
        body["parameters"] = rows
    job = api.run(**body)
    ((values,), (errors,)) = job["quantum_results"], job["info"]["uncertainty"]
    return np.array(values), np.array(errors)


def _within(values: np.ndarray, errors: np.ndarray, exact: np.ndarray) -> bool:
    assert values.shape == errors.shape == exact.shape
    return bool(np.all(np.abs(values - exact) <= 5 * errors + 1e-9))


def test_the_references_are_mixtures():
    # The values the tests expect are not those of any single trajectory.
    assert abs(_exact_reset(0.0)[0]) < 1e-12  # <Z> of qubit 1 after the reset: 0, not +-1
    assert abs(_exact_reset(0.0)[1] - np.cos(0.6)) < 1e-12  # qubit 0 restarts from |0>
    feed = _exact_feed_forward(1.1)
    assert 0.2 < abs(feed[0]) < 0.9  # <Z> of qubit 2: a weighted mix of the two branches
    assert 0.2 < abs(feed[1]) < 0.9  # <Z> of qubit 1: -(probability of reading 1) * 2 + 1


def test_reset_gives_the_mixture_not_one_trajectory(api):
    values, errors = _estimate(api, _reset(), LABELS, shots=4000)
    exact = _exact_reset(0.0)
    assert _within(values, errors, exact), (values, exact, errors)
    assert errors[0] > 0.01  # <ZI> = 0 measured with 4000 shots: sigma = 1/sqrt(4000)


def test_mid_circuit_measurement_with_feed_forward(api):
    values, errors = _estimate(api, _feed_forward(), FEED_LABELS, shots=4000)
    exact = _exact_feed_forward(1.1)
    assert _within(values, errors, exact), (values, exact, errors)
    assert np.all(errors[np.abs(exact) < 0.99] > 0.005)


def test_initialize_resets_its_qubits(api):
    circuit = QuantumCircuit(2)
    circuit.h(0)
    circuit.cx(0, 1)
    circuit.initialize([0, 1], [0])  # resets qubit 0 to |1>: qubit 1 is left mixed
    reference = QuantumCircuit(2)
    reference.h(0)
    reference.cx(0, 1)
    reference.reset(0)
    reference.x(0)
    values, errors = _estimate(api, circuit, LABELS, shots=4000)
    exact = _exact(DensityMatrix(reference), LABELS)
    assert exact[1] == pytest.approx(-1.0)
    assert _within(values, errors, exact), (values, exact, errors)
    assert errors[0] > 0.01


@pytest.mark.parametrize(
    ("build", "exact", "labels"),
    [(_reset, _exact_reset, LABELS), (_feed_forward, _exact_feed_forward, FEED_LABELS)],
    ids=["reset", "feed-forward"],
)
def test_broadcast_rows_are_independent(api, build, exact, labels):
    thetas = [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.7, 1.9, 2.8]
    values, errors = _estimate(api, build(Parameter("t")), labels, 2000, [[t] for t in thetas])
    expected = np.stack([exact(t) for t in thetas], axis=1)
    assert values.shape == (len(labels), len(thetas))
    assert _within(values, errors, expected), (values, expected, errors)
    # Six rows of the same circuit: independent estimates, not one shared trajectory.
    repeated = values[:, :6]
    mixed = np.abs(expected[:, 0]) < 0.99
    assert all(len(set(row)) > 1 for row in repeated[mixed]), repeated


@pytest.fixture(scope="module")
def narrow_api() -> Iterator[Api]:
    """No density matrices, few trajectories: every mixture is sampled from trajectories."""
    with emulator_api(max_density_matrix_qubits=0, max_trajectories=50) as api:
        yield api


def test_too_wide_for_a_density_matrix_uses_trajectories(narrow_api):
    values, errors = _estimate(narrow_api, _reset(), LABELS, shots=40)  # 40 trajectories
    assert _within(values, errors, _exact_reset(0.0)), values
    assert errors[0] > 0.1


def test_fewer_trajectories_than_shots_widen_the_uncertainty(narrow_api):
    # 50 trajectories for 20000 shots: the trajectories' own spread dominates the error.
    values, errors = _estimate(narrow_api, _feed_forward(), FEED_LABELS, shots=20_000)
    exact = _exact_feed_forward(1.1)
    assert _within(values, errors, exact), (values, exact, errors)
    shot_noise = np.sqrt((1 - values**2) / 20_000)
    varying = np.abs(exact) < 0.9
    assert np.all(errors[varying] > 2 * shot_noise[varying])


@pytest.mark.parametrize(
    ("settings", "build", "exact", "labels", "shots"),
    [
        ({}, _reset, _exact_reset, LABELS, 200),  # density matrix, then shots
        ({}, _feed_forward, _exact_feed_forward, FEED_LABELS, 200),  # one trajectory a shot
        ({"max_trajectories": 20}, _feed_forward, _exact_feed_forward, FEED_LABELS, 400),
    ],
    ids=["density matrix", "trajectory per shot", "fewer trajectories"],
)
def test_uncertainties_match_the_spread_of_repeated_rows(settings, build, exact, labels, shots):
    rows = 300
    with emulator_api(**settings) as api:
        values, errors = _estimate(api, build(Parameter("t")), labels, shots, [[1.1]] * rows)
    expected = exact(1.1)
    for index in np.flatnonzero(np.abs(expected) < 0.95):
        spread = values[index].std(ddof=1)
        reported = np.sqrt(np.mean(errors[index] ** 2))
        assert 0.8 < spread / reported < 1.25, (labels[index], spread, reported)
        assert abs(values[index].mean() - expected[index]) < 5 * spread / np.sqrt(rows)
