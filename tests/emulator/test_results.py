"""Result shapes and values: distributions, key formats, mitigation, observables, sweeps."""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import ExitStack

import numpy as np
import pytest
from qiskit import ClassicalRegister, QuantumCircuit, QuantumRegister
from qiskit.circuit import Clbit, Parameter
from qiskit.quantum_info import Statevector
from qiskit_aer import AerSimulator

from qiskit_haiqu.emulator.settings import KEY_FORMATS

from ._servers import emulator_api
from ._support import Api, bell


def _ry() -> QuantumCircuit:
    circuit = QuantumCircuit(1, name="ry")
    circuit.ry(Parameter("theta"), 0)
    return circuit


def _two_registers() -> QuantumCircuit:
    """clbits a[0]=1, a[1]=0, b[0]=1: Qiskit's key is 'b a' = '1 01'."""
    a, b = ClassicalRegister(2, "a"), ClassicalRegister(1, "b")
    circuit = QuantumCircuit(QuantumRegister(3), a, b)
    circuit.x(0)
    circuit.x(2)
    circuit.measure(0, a[0])
    circuit.measure(1, a[1])
    circuit.measure(2, b[0])
    return circuit


def test_bell_distribution_is_a_real_sample(api, exp_id):
    circuit = api.upload(exp_id, bell())
    job = api.run(experiment_id=exp_id, circuit_ids=[circuit], shots=1000)
    (dist,) = job["quantum_results"]
    assert set(dist) <= {"00", "11"}
    assert dist
    counts = {k: v * 1000 for k, v in dist.items()}
    assert all(abs(c - round(c)) < 1e-9 for c in counts.values())
    assert sum(round(c) for c in counts.values()) == 1000
    assert "uncertainty" not in (job["info"] or {})


def test_default_keys_are_get_counts_keys(api, exp_id):
    circuit = api.upload(exp_id, _two_registers())
    job = api.run(experiment_id=exp_id, circuit_ids=[circuit], shots=10)
    assert job["quantum_results"] == [{"1 01": 1.0}]


@pytest.fixture(scope="module")
def keyed_apis() -> Iterator[dict[str, Api]]:
    """One emulator per ``key_format`` setting."""
    with ExitStack() as stack:
        yield {fmt: stack.enter_context(emulator_api(key_format=fmt)) for fmt in KEY_FORMATS}


@pytest.mark.parametrize(
    ("key_format", "key"), [("get_counts", "1 01"), ("full", "101"), ("hex", "0x5")]
)
def test_key_format_is_the_servers_setting(keyed_apis, key_format, key):
    api = keyed_apis[key_format]
    exp_id = api.experiment()
    circuit = api.upload(exp_id, _two_registers())
    job = api.run(experiment_id=exp_id, circuit_ids=[circuit], shots=10)
    assert job["quantum_results"] == [{key: 1.0}]
    # The former per-request option is now an unknown option key: ignored, like any other.
    asked = api.run(
        experiment_id=exp_id,
        circuit_ids=[circuit],
        shots=10,
        options={"emulator_key_format": "hex" if key_format != "hex" else "full"},
    )
    assert asked["quantum_results"] == [{key: 1.0}]


def _loose_between() -> QuantumCircuit:
    """clbits [c0, c1, loose, d0] holding 0b1001: Aer's get_counts key is '1 00'."""
    circuit = QuantumCircuit(4)
    circuit.add_register(ClassicalRegister(2, "c"))
    circuit.add_bits([Clbit()])
    circuit.add_register(ClassicalRegister(1, "d"))
    circuit.x([0, 3])
    circuit.measure(range(4), range(4))
    return circuit


def _zero_width_between() -> QuantumCircuit:
    circuit = QuantumCircuit(QuantumRegister(3), ClassicalRegister(1, "a"))
    circuit.add_register(ClassicalRegister(0, "empty"))
    circuit.add_register(ClassicalRegister(2, "b"))
    circuit.x([0, 2])
    circuit.measure(range(3), range(3))
    return circuit


def _overlapping() -> QuantumCircuit:
    bits = [Clbit() for _ in range(3)]
    circuit = QuantumCircuit(3)
    circuit.add_bits(bits)
    circuit.add_register(ClassicalRegister(name="a", bits=bits[:2]))
    circuit.add_register(ClassicalRegister(name="b", bits=bits[1:]))
    circuit.x([0, 2])
    circuit.measure(range(3), range(3))
    return circuit


@pytest.mark.parametrize("build", [_loose_between, _zero_width_between, _overlapping])
def test_odd_layouts_get_aers_keys_over_http(api, exp_id, build):
    circuit = build()
    (aer_key,) = AerSimulator().run(circuit, shots=10).result().get_counts()
    circuit_id = api.upload(exp_id, circuit)
    job = api.run(experiment_id=exp_id, circuit_ids=[circuit_id], shots=10)
    assert job["quantum_results"] == [{aer_key: 1.0}]


def test_keys_are_padded_to_all_clbits(api, exp_id):
    circuit = QuantumCircuit(1, 3)
    circuit.x(0)
    circuit.measure(0, 0)
    circuit_id = api.upload(exp_id, circuit)
    job = api.run(experiment_id=exp_id, circuit_ids=[circuit_id], shots=10)
    assert job["quantum_results"] == [{"001": 1.0}]


@pytest.mark.parametrize(("key_format", "key"), [("get_counts", ""), ("full", ""), ("hex", "0x0")])
def test_circuit_without_measurements_gives_the_empty_key(keyed_apis, key_format, key):
    api = keyed_apis[key_format]
    exp_id = api.experiment()
    circuit = QuantumCircuit(2)
    circuit.h(0)
    circuit_id = api.upload(exp_id, circuit)
    job = api.run(experiment_id=exp_id, circuit_ids=[circuit_id], shots=10)
    assert job["quantum_results"] == [{key: 1.0}]


def test_mitigation_returns_quasi_probabilities(api, exp_id):
    circuit = QuantumCircuit(3)
    circuit.h(range(3))
    circuit.measure_all()
    circuit_id = api.upload(exp_id, circuit)
    job = api.run(
        experiment_id=exp_id,
        circuit_ids=[circuit_id],
        shots=300,
        device_id="fake_manila",  # readout mitigation only acts where there is readout error
        use_mitigation=True,
        options={"seed_simulator": 3},
    )
    (dist,) = job["quantum_results"]
    values = np.array(list(dist.values()))
    assert math.isclose(values.sum(), 1.0, abs_tol=1e-9)
    assert not np.allclose(values * 300, np.round(values * 300))
    assert np.abs(values).max() < 0.5


def test_parameter_sweep_matches_cos_within_five_sigma(api, exp_id):
    circuit = api.upload(exp_id, _ry())
    thetas = [0.0, 0.4, 1.3, 2.2, 3.0]
    job = api.run(
        experiment_id=exp_id,
        circuit_ids=[circuit],
        shots=4000,
        parameters=[[t] for t in thetas],
        observables=[[[["Z"], [1.0]], [["X"], [2.0]]]],
    )
    (per_obs,) = job["quantum_results"]
    (sigmas,) = job["info"]["uncertainty"]
    for values, errors, exact in (
        (per_obs[0], sigmas[0], np.cos(thetas)),
        (per_obs[1], sigmas[1], 2 * np.sin(thetas)),
    ):
        assert len(values) == len(errors) == len(thetas)
        for value, sigma, expected in zip(values, errors, exact, strict=True):
            assert abs(value - expected) <= 5 * sigma + 1e-9, (value, expected, sigma)
    assert per_obs[0][0] == 1.0
    assert sigmas[0][0] == 0.0
    assert all(s > 0 for s in sigmas[1][1:])


def test_identity_terms_are_exact(api, exp_id):
    circuit = QuantumCircuit(2)
    circuit.h(0)
    circuit_id = api.upload(exp_id, circuit)
    job = api.run(
        experiment_id=exp_id,
        circuit_ids=[circuit_id],
        shots=100,
        observables=[[[["II"], [0.75]], [["II", "ZI"], [0.5, -1.0]]]],
    )
    assert job["quantum_results"] == [[0.75, -0.5]]
    assert job["info"]["uncertainty"] == [[0.0, 0.0]]


def test_parameters_bind_positionally_in_sorted_name_order(api, exp_id):
    circuit = QuantumCircuit(2)
    circuit.rx(Parameter("b"), 1)
    circuit.rx(Parameter("a"), 0)
    circuit.measure_all()
    circuit_id = api.upload(exp_id, circuit)
    job = api.run(
        experiment_id=exp_id, circuit_ids=[circuit_id], shots=20, parameters=[[math.pi, 0.0]]
    )
    assert job["quantum_results"] == [[{"01": 1.0}]]


def _shape(value: object) -> list[int]:
    shape = []
    while isinstance(value, list):
        shape.append(len(value))
        value = value[0] if value else None
    return shape


@pytest.fixture(scope="module")
def nesting_circuits(api: Api, exp_id: str) -> dict[str, str]:
    plain = QuantumCircuit(1)
    plain.h(0)
    measured = plain.copy()
    measured.measure_all()
    swept = _ry()
    swept_measured = swept.copy()
    swept_measured.measure_all()
    return {
        "plain": api.upload(exp_id, plain),
        "measured": api.upload(exp_id, measured),
        "swept": api.upload(exp_id, swept),
        "swept_measured": api.upload(exp_id, swept_measured),
    }


def test_nesting_no_observables_no_parameters(api, exp_id, nesting_circuits):
    ids = [nesting_circuits["measured"]] * 2
    job = api.run(experiment_id=exp_id, circuit_ids=ids, shots=10)
    results = job["quantum_results"]
    assert len(results) == 2
    assert all(isinstance(d, dict) for d in results)


def test_nesting_parameters_only(api, exp_id, nesting_circuits):
    ids = [nesting_circuits["swept_measured"]] * 2
    job = api.run(
        experiment_id=exp_id,
        circuit_ids=ids,
        shots=10,
        parameters=[[[0.1], [0.2], [0.3]], [[0.4]]],
    )
    results = job["quantum_results"]
    assert [len(r) for r in results] == [3, 1]
    assert all(isinstance(d, dict) for r in results for d in r)


def test_nesting_observables_only(api, exp_id, nesting_circuits):
    ids = [nesting_circuits["plain"], nesting_circuits["measured"]]
    job = api.run(
        experiment_id=exp_id,
        circuit_ids=ids,
        shots=10,
        observables=[[[["Z"], [1.0]], [["X"], [1.0]], [["Y"], [1.0]]], [[["X"], [1.0]]]],
    )
    results = job["quantum_results"]
    assert [len(r) for r in results] == [3, 1]
    assert all(isinstance(v, float) for r in results for v in r)
    assert [len(r) for r in job["info"]["uncertainty"]] == [3, 1]
    assert results[1][0] == 1.0  # final measurements are removed: <X> of |+> is exactly 1


def test_nesting_observables_and_parameters(api, exp_id, nesting_circuits):
    ids = [nesting_circuits["swept"], nesting_circuits["swept"]]
    job = api.run(
        experiment_id=exp_id,
        circuit_ids=ids,
        shots=10,
        parameters=[[[0.1], [0.2]], [[0.3], [0.4], [0.5]]],
        observables=[[[["Z"], [1.0]]], [[["Z"], [1.0]], [["X"], [1.0]]]],
    )
    results = job["quantum_results"]
    assert _shape(results[0]) == [1, 2]
    assert _shape(results[1]) == [2, 3]
    uncertainty = job["info"]["uncertainty"]
    assert _shape(uncertainty[0]) == [1, 2]
    assert _shape(uncertainty[1]) == [2, 3]


def test_single_row_keeps_the_parameter_axis(api, exp_id, nesting_circuits):
    job = api.run(
        experiment_id=exp_id,
        circuit_ids=[nesting_circuits["swept"]],
        shots=10,
        parameters=[[0.0]],
        observables=[[[["Z"], [1.0]]]],
    )
    assert job["quantum_results"] == [[[1.0]]]


def test_repeated_circuit_ids_get_their_own_rows_and_observables(api, exp_id, nesting_circuits):
    swept = nesting_circuits["swept"]
    job = api.run(
        experiment_id=exp_id,
        circuit_ids=[swept, swept, swept],
        shots=10,
        parameters=[[[0.0]], [[math.pi], [0.0]], [[0.0]]],
        observables=[[[["Z"], [1.0]]], [[["Z"], [1.0]]], [[["Z"], [-2.0]], [["X"], [0.0]]]],
    )
    first, second, third = job["quantum_results"]
    assert first == [[1.0]]
    assert second == [[-1.0, 1.0]]
    assert third == [[-2.0], [0.0]]


def test_seed_makes_runs_reproducible(api, exp_id, nesting_circuits):
    body = {
        "experiment_id": exp_id,
        "circuit_ids": [nesting_circuits["swept_measured"], nesting_circuits["swept"]],
        "shots": 100,
        "parameters": [[[0.7], [1.1]], [[0.7]]],
        "options": {"seed_simulator": 1234},
    }
    sampled = [api.run(**body)["quantum_results"] for _ in range(2)]
    assert sampled[0] == sampled[1]
    body["circuit_ids"] = [nesting_circuits["swept"]] * 2
    body["observables"] = [[[["Z"], [1.0]]], [[["X"], [1.0]]]]
    estimated = [api.run(**body) for _ in range(2)]
    assert estimated[0]["quantum_results"] == estimated[1]["quantum_results"]
    assert estimated[0]["info"] == estimated[1]["info"]


def test_fake_device_is_noisy(api, exp_id):
    circuit = api.upload(exp_id, bell())
    job = api.run(
        experiment_id=exp_id,
        circuit_ids=[circuit],
        device_id="fake_manila",
        shots=2000,
        options={"seed_simulator": 5},
    )
    (dist,) = job["quantum_results"]
    assert dist.get("00", 0) + dist.get("11", 0) > 0.8
    assert dist.get("01", 0) + dist.get("10", 0) > 0
    assert all(abs(v * 2000 - round(v * 2000)) < 1e-9 for v in dist.values())


def test_fake_device_estimates(api, exp_id):
    circuit = api.upload(exp_id, _ry())
    job = api.run(
        experiment_id=exp_id,
        circuit_ids=[circuit],
        device_id="fake_manila",
        shots=2000,
        parameters=[[0.0], [math.pi]],
        observables=[[[["Z"], [1.0]]]],
        options={"seed_simulator": 5},
    )
    ((values,),) = job["quantum_results"]
    assert values[0] > 0.8
    assert values[1] < -0.8


def test_noise_model_on_aer_simulator(api, exp_id):
    from qiskit_aer.noise import NoiseModel, depolarizing_error

    noise = NoiseModel()
    noise.add_all_qubit_quantum_error(depolarizing_error(0.2, 2), ["cx"])
    circuit = api.upload(exp_id, bell())
    job = api.run(
        experiment_id=exp_id,
        circuit_ids=[circuit],
        shots=2000,
        options={"noise_model": noise.to_dict(serializable=True), "seed_simulator": 9},
    )
    (dist,) = job["quantum_results"]
    assert dist.get("01", 0) + dist.get("10", 0) > 0.02


def test_matrix_product_state_lifts_the_qubit_limit(api, exp_id):
    circuit = QuantumCircuit(40)
    circuit.h(0)
    for qubit in range(39):
        circuit.cx(qubit, qubit + 1)
    circuit.measure_all()
    circuit_id = api.upload(exp_id, circuit)
    job = api.run(
        experiment_id=exp_id,
        circuit_ids=[circuit_id],
        shots=100,
        options={"method": "matrix_product_state"},
    )
    (dist,) = job["quantum_results"]
    assert set(dist) <= {"0" * 40, "1" * 40}


def test_statevector_run(api, exp_id):
    circuit = QuantumCircuit(2)
    circuit.h(0)
    circuit.cx(0, 1)
    circuit.s(1)
    measured = circuit.copy()
    measured.measure_all()
    circuit_id = api.upload(exp_id, measured)
    job = api.run(experiment_id=exp_id, circuit_ids=[circuit_id], run_type="StatevectorRun")
    ((real, imag),) = job["quantum_results"]
    expected = Statevector(circuit).data
    np.testing.assert_allclose(np.array(real) + 1j * np.array(imag), expected, atol=1e-12)
