"""HaiquEstimator against the emulator over HTTP, with exact Statevector values as the oracle."""

from __future__ import annotations

import numpy as np
import pytest
from qiskit import transpile
from qiskit.circuit import Parameter, QuantumCircuit
from qiskit.circuit.library import efficient_su2, real_amplitudes
from qiskit.primitives import StatevectorEstimator
from qiskit.primitives.containers.observables_array import ObservablesArray
from qiskit.quantum_info import Pauli, SparseObservable, SparsePauliOp, Statevector
from qiskit_ibm_runtime.fake_provider import FakeManilaV2
from scipy.optimize import minimize

from qiskit_haiqu import HaiquEstimator, HaiquInputError


def _bell() -> QuantumCircuit:
    qc = QuantumCircuit(2)
    qc.h(0)
    qc.cx(0, 1)
    return qc


def _ry() -> tuple[QuantumCircuit, Parameter]:
    theta = Parameter("theta")
    qc = QuantumCircuit(1)
    qc.ry(theta, 0)
    return qc, theta


def _exact(qc: QuantumCircuit, observables) -> np.ndarray:
    """Exact expectation values of any observables-like input (projectors included)."""
    state = Statevector(qc).data
    array = ObservablesArray.coerce(observables).sparse_observables_array()
    out = np.empty(array.shape)
    for index, observable in np.ndenumerate(array):
        out[index] = np.real(
            np.vdot(state, SparsePauliOp.from_sparse_observable(observable).to_matrix() @ state)
        )
    return out


def _within(evs, exact, stds, sigmas: float = 5.0, floor: float = 0.02) -> bool:
    return bool(np.all(np.abs(np.asarray(evs) - exact) <= sigmas * np.asarray(stds) + floor))


def test_bell_stabilisers(client):
    estimator = HaiquEstimator("aer_simulator", client=client)
    result = estimator.run([(_bell(), ["ZZ", "XX", "ZI", "IZ", "YY"])]).result()[0]
    assert result.data.evs.shape == (5,)
    np.testing.assert_allclose(result.data.evs[:2], [1.0, 1.0], atol=1e-9)
    np.testing.assert_allclose(result.data.evs[4], -1.0, atol=1e-9)
    assert _within(result.data.evs[2:4], 0.0, result.data.stds[2:4])
    assert np.all(result.data.stds[2:4] > 0)


def test_ry_sweep_follows_cosine(client):
    qc, _ = _ry()
    angles = np.linspace(0, 2 * np.pi, 9)
    result = (
        HaiquEstimator("aer_simulator", client=client)
        .run([(qc, "Z", angles)], precision=0.01)
        .result()[0]
    )
    assert result.data.evs.shape == (9,)
    assert result.metadata["shots"] == 10_000
    assert _within(result.data.evs, np.cos(angles), result.data.stds)
    assert np.all(result.data.stds <= 0.0101)


def test_molecular_hamiltonian_matches_statevector(client):
    hamiltonian = SparsePauliOp.from_list(
        [("II", -1.052), ("IZ", 0.397), ("ZI", -0.397), ("ZZ", -0.011), ("XX", 0.181)]
    )
    ansatz = efficient_su2(2, reps=1)
    rng = np.random.default_rng(3)
    values = rng.uniform(-np.pi, np.pi, (4, ansatz.num_parameters))
    ours = (
        HaiquEstimator("aer_simulator", client=client)
        .run([(ansatz, hamiltonian, values)])
        .result()[0]
    )
    exact = StatevectorEstimator().run([(ansatz, hamiltonian, values)]).result()[0].data.evs
    assert _within(ours.data.evs, exact, ours.data.stds)


@pytest.mark.parametrize(
    "observable",
    [
        "XZ",
        Pauli("XZ"),
        SparsePauliOp(["XZ", "II"], [0.5, 0.25]),
        SparseObservable.from_list([("XZ", 0.5), ("ZI", 2.0)]),
        SparseObservable.from_label("0+"),
        {"XZ": 1.0, "ZZ": -0.5},
        [["XZ", "ZX"], ["ZZ", "IX"]],
    ],
    ids=["str", "pauli", "sparse_pauli_op", "sparse_observable", "projectors", "dict", "nested"],
)
def test_every_observable_form(client, observable):
    qc = QuantumCircuit(2)
    qc.ry(0.7, 0)
    qc.rx(1.1, 1)
    qc.h(0)
    ours = (
        HaiquEstimator("aer_simulator", client=client)
        .run([(qc, observable)], precision=0.01)
        .result()[0]
    )
    exact = _exact(qc, observable)
    assert ours.data.evs.shape == np.shape(exact)
    assert _within(ours.data.evs, exact, ours.data.stds)


@pytest.mark.parametrize(
    ("obs_shape", "val_shape", "needed"),
    [
        ((3, 1), (1, 4), 12),  # outer product
        ((4,), (4,), 4),  # zip: 4 evaluations, not 16
        ((3,), (), 3),
        ((), (5,), 5),
        ((2, 3), (3,), 6),
    ],
)
def test_broadcasting_asks_only_what_is_needed(client, obs_shape, val_shape, needed):
    qc, _ = _ry()
    labels = np.array(["Z", "X", "Y", "I"] * 3, dtype=object)
    size = int(np.prod(obs_shape)) if obs_shape else 1
    coeffs = np.arange(1, size + 1)
    observables = np.empty(obs_shape, dtype=object)
    for k, index in enumerate(np.ndindex(obs_shape)):
        observables[index] = {labels[k]: float(coeffs[k])}
    observables = observables if obs_shape else {"Z": 1.0}
    values = np.linspace(0.1, 3.0, int(np.prod(val_shape)) if val_shape else 1).reshape(
        (*val_shape, 1)
    )
    ours = (
        HaiquEstimator("aer_simulator", client=client)
        .run([(qc, observables, values)], precision=0.02)
        .result()[0]
    )
    exact = StatevectorEstimator().run([(qc, observables, values)]).result()[0].data.evs
    assert ours.data.evs.shape == exact.shape == np.broadcast_shapes(obs_shape, val_shape)
    assert ours.metadata["num_evaluations"] == needed
    assert _within(ours.data.evs, exact, ours.data.stds)


def test_precision_priority_and_metadata(client):
    qc, _ = _ry()
    qc.metadata = {"name": "ry"}
    estimator = HaiquEstimator("aer_simulator", client=client)
    result = estimator.run([(qc, "Z", [0.1], 0.05), (qc, "Z", [0.2])], precision=0.1).result()
    assert [r.metadata["target_precision"] for r in result] == [0.05, 0.1]
    assert [r.metadata["shots"] for r in result] == [400, 100]
    assert result[0].metadata["circuit_metadata"] == {"name": "ry"}
    assert result[0].metadata["haiqu_job_id"].startswith("jb-")
    default = estimator.run([(qc, "Z", [0.3])]).result()[0]
    assert default.metadata["target_precision"] == 0.015625
    assert default.metadata["shots"] == 4096
    fixed = HaiquEstimator("aer_simulator", client=client, options={"default_shots": 1000})
    assert fixed.run([(qc, "Z", [0.3])], precision=0.5).result()[0].metadata["shots"] == 1000


def test_stds_honour_requested_precision_for_a_single_pauli(client):
    qc, _ = _ry()
    evs = []
    stds = []
    estimator = HaiquEstimator("aer_simulator", client=client)
    for _ in range(20):
        result = estimator.run([(qc, "Z", [np.pi / 2])], precision=0.05).result()[0]
        evs.append(float(result.data.evs))
        stds.append(float(result.data.stds))
    assert np.mean(stds) <= 0.05 + 1e-9
    assert np.std(evs) <= 2 * np.mean(stds)


def test_complex_coefficients_rejected_before_any_request(client, request_log):
    qc = _bell()
    with pytest.raises(ValueError, match="XX"):
        HaiquEstimator("aer_simulator", client=client).run(
            [(qc, SparsePauliOp(["XX", "ZZ"], [1j, 1.0]))]
        )
    assert request_log.api_calls() == []


def test_width_mismatch_rejected_before_any_request(client, request_log):
    with pytest.raises(ValueError, match="number of qubits"):
        HaiquEstimator("aer_simulator", client=client).run([(_bell(), "ZZZ")])
    assert request_log.api_calls() == []


def test_precision_zero_gives_exact_values_from_a_statevector_run(client, request_log):
    """As StatevectorEstimator's default: exact values, stds 0, any broadcast."""
    theta = Parameter("theta")
    qc = QuantumCircuit(2)
    qc.ry(theta, 0)
    qc.cx(0, 1)
    observables = [[SparsePauliOp("ZZ")], [SparsePauliOp(["XX", "ZI"], [0.5, 1.0])]]
    values = np.linspace(0, np.pi, 5).reshape(-1, 1)
    reference = StatevectorEstimator().run([(qc, observables, values)]).result()[0]
    measured = qc.copy()
    measured.measure_all()  # final measurements are ignored, as for any of our pubs
    pub = (measured, observables, values)
    ours = HaiquEstimator("aer_simulator", client=client).run([pub], precision=0).result()[0]
    np.testing.assert_allclose(ours.data.evs, reference.data.evs, atol=1e-12)
    assert np.all(ours.data.stds == 0)
    assert ours.metadata["stds_source"] == "exact"
    runs = [e for e in request_log.entries() if e["method"] == "POST" and e["path"] == "/run"]
    assert len(runs) == 1  # one statevector run for the five bound circuits


def test_transpiled_circuit_with_layout(client):
    backend = FakeManilaV2()
    qc = _bell()
    isa = transpile(qc, backend, optimization_level=1, seed_transpiler=5)
    observables = [SparsePauliOp(label).apply_layout(isa.layout) for label in ("ZZ", "XX")]
    result = HaiquEstimator("aer_simulator", client=client).run([(isa, observables)]).result()[0]
    assert isa.num_qubits == backend.num_qubits
    np.testing.assert_allclose(result.data.evs, [1.0, 1.0], atol=1e-9)


def test_final_measurements_are_ignored(client):
    qc = _bell()
    qc.measure_all()
    result = HaiquEstimator("aer_simulator", client=client).run([(qc, "ZZ")]).result()[0]
    assert float(result.data.evs) == pytest.approx(1.0)


def test_vqe_reaches_ground_energy_with_one_run_per_iteration(client, request_log):
    hamiltonian = SparsePauliOp.from_list([("ZZ", 1.0), ("XI", 0.5), ("IX", 0.5)])
    exact = float(np.min(np.linalg.eigvalsh(hamiltonian.to_matrix())))
    ansatz = real_amplitudes(2, reps=2)
    estimator = HaiquEstimator(
        "aer_simulator",
        client=client,
        # seeded: the optimiser's path must not depend on shot noise from run to run
        options={"default_precision": 0.01, "device_options": {"seed_simulator": 1234}},
    )
    calls = []

    def energy(x: np.ndarray) -> float:
        request_log.clear()
        value = float(estimator.run([(ansatz, hamiltonian, x)]).result()[0].data.evs)
        calls.append(request_log.api_calls())
        return value

    x0 = np.full(ansatz.num_parameters, 0.3)
    outcome = minimize(energy, x0, method="COBYLA", options={"maxiter": 150, "rhobeg": 0.8})
    assert outcome.fun - exact < 0.05
    for later in calls[1:]:
        assert later.count(("POST", "/run")) == 1
        assert not [c for c in later if c[1].startswith(("/circuits", "/experiments", "/devices"))]
        assert len([c for c in later if c[0] == "GET" and c[1].startswith("/jobs/")]) <= 5


def test_empty_observables_refused(client, request_log):
    with pytest.raises((ValueError, HaiquInputError)):
        HaiquEstimator("aer_simulator", client=client).run(
            [(_bell(), SparsePauliOp(["ZZ", "ZZ"], [1.0, -1.0]).simplify())]
        )
    assert request_log.count("POST", "/run") == 0


def test_precision_zero_on_a_circuit_with_a_reset_is_refused_before_any_request(
    client, request_log
):
    qc = QuantumCircuit(2)
    qc.h(0)
    qc.cx(0, 1)
    qc.reset(0)
    with pytest.raises(ValueError, match="the circuit has reset. Give a precision > 0"):
        HaiquEstimator("aer_simulator", client=client).run([(qc, "ZI")], precision=0)
    assert request_log.api_calls() == []
