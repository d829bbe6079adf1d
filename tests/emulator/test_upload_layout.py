"""The ``upload_layout`` setting: what the server makes of a layout in an uploaded circuit.

A circuit transpiled by the client carries a ``TranspileLayout`` through QPY. A server that
honours it (the default) reads the observables as virtual and maps them with
``observable.apply_layout(circuit.layout)`` before its own transpilation; one that ignores it
reads them at the uploaded circuit's full width (haiqu-api.md §15 Q8).
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest
from qiskit import QuantumCircuit
from qiskit.providers.fake_provider import GenericBackendV2
from qiskit.quantum_info import SparsePauliOp, Statevector
from qiskit.transpiler import CouplingMap, generate_preset_pass_manager

from qiskit_haiqu.emulator.simulate import decode_circuit

from ._servers import emulator_api
from ._support import Api, encode

SHOTS = 200_000
VIRTUAL = ["ZIZ", "XXI", "IZY", "YYZ"]


def _transpiled(circuit: QuantumCircuit) -> QuantumCircuit:
    """Laid out and routed on a 5-qubit line (the seed gives a non-trivial layout)."""
    backend = GenericBackendV2(5, coupling_map=CouplingMap.from_line(5), seed=2)
    manager = generate_preset_pass_manager(optimization_level=1, backend=backend, seed_transpiler=2)
    transpiled = manager.run(circuit)
    assert transpiled.layout is not None
    assert transpiled.layout.final_index_layout() != list(range(circuit.num_qubits))
    return transpiled


def _three_qubits() -> QuantumCircuit:
    circuit = QuantumCircuit(3)
    circuit.h(0)
    circuit.cx(0, 1)
    circuit.cx(1, 2)
    circuit.cx(0, 2)
    circuit.ry(0.3, 2)
    circuit.rx(0.4, 1)
    circuit.ry(0.9, 0)
    return circuit


def _five_qubits() -> QuantumCircuit:
    circuit = QuantumCircuit(5)
    circuit.h(0)
    for a, b in [(0, 1), (1, 2), (0, 2), (2, 4), (4, 3), (3, 0)]:
        circuit.cx(a, b)
    for qubit, angle in enumerate([0.9, 0.4, 0.3, 1.2, 0.7]):
        circuit.ry(angle, qubit)
    return circuit


def _estimate(api: Api, circuit: QuantumCircuit, labels: list[str]) -> tuple[np.ndarray, ...]:
    exp_id = api.experiment()
    circuit_id = api.upload(exp_id, circuit)
    job = api.run(
        experiment_id=exp_id,
        circuit_ids=[circuit_id],
        shots=SHOTS,
        observables=[[[[label], [1.0]] for label in labels]],
        options={"seed_simulator": 7},
    )
    ((values,), (errors,)) = job["quantum_results"], job["info"]["uncertainty"]
    return np.array(values), np.array(errors)


def _refusal(api: Api, circuit: QuantumCircuit, labels: list[str]) -> list[dict[str, object]]:
    exp_id = api.experiment()
    circuit_id = api.upload(exp_id, circuit)
    response = api.http.post(
        "/run",
        json={
            "experiment_id": exp_id,
            "circuit_ids": [circuit_id],
            "shots": 100,
            "observables": [[[[label], [1.0]] for label in labels]],
        },
    )
    assert response.status_code == 422, response.text
    return list(response.json()["detail"])


def _exact(circuit: QuantumCircuit, labels: list[str]) -> np.ndarray:
    state = Statevector(circuit)  # evolves every qubit of the circuit; ignores any layout
    return np.array([float(np.real(state.expectation_value(SparsePauliOp(x)))) for x in labels])


def _physical(labels: list[str], transpiled: QuantumCircuit) -> list[str]:
    """Virtual labels mapped as a client maps them for a transpiled circuit."""
    return [SparsePauliOp(x).apply_layout(transpiled.layout).paulis[0].to_label() for x in labels]


def _agrees(values: np.ndarray, errors: np.ndarray, exact: np.ndarray) -> bool:
    """Within five standard errors (an eigenstate's value is exact, with error 0)."""
    assert values.shape == errors.shape == exact.shape
    return bool(np.all(np.abs(values - exact) <= 5 * errors + 1e-9))


@pytest.fixture(scope="module")
def ignoring_api() -> Iterator[Api]:
    with emulator_api(upload_layout="ignore") as api:
        yield api


def test_the_layout_survives_qpy():
    transpiled = _transpiled(_three_qubits())
    decoded = decode_circuit(encode(transpiled))
    assert decoded.layout is not None
    assert decoded.layout.final_index_layout() == transpiled.layout.final_index_layout()


def test_ignore_reads_observables_at_the_full_width(ignoring_api):
    original = _three_qubits()
    transpiled = _transpiled(original)
    physical = _physical(VIRTUAL, transpiled)
    values, errors = _estimate(ignoring_api, transpiled, physical)
    exact = _exact(transpiled, physical)
    np.testing.assert_allclose(exact, _exact(original, VIRTUAL), atol=1e-9)
    assert _agrees(values, errors, exact), (values, exact, errors)
    # Virtual (3-qubit) observables are the wrong width for a 5-qubit circuit.
    detail = _refusal(ignoring_api, transpiled, VIRTUAL)
    assert any("has 3 characters; the circuit has 5 qubits" in str(d["msg"]) for d in detail)


def test_honour_maps_virtual_observables_through_the_layout(api):
    original = _three_qubits()
    transpiled = _transpiled(original)
    values, errors = _estimate(api, transpiled, VIRTUAL)
    exact = _exact(original, VIRTUAL)
    assert _agrees(values, errors, exact), (values, exact, errors)
    # The trivial reading (virtual qubit i = qubit i of the 5-qubit circuit) would differ.
    trivial = _exact(transpiled, ["II" + label for label in VIRTUAL])
    assert np.max(np.abs(trivial - exact)) > 0.2


def test_honour_refuses_observables_already_mapped_to_the_physical_width(api):
    transpiled = _transpiled(_three_qubits())
    detail = _refusal(api, transpiled, _physical(VIRTUAL, transpiled))
    messages = [str(d["msg"]) for d in detail]
    assert any("Number of qargs does not match (3 != 5)" in m for m in messages), messages
    assert {tuple(d["loc"]) for d in detail} >= {("body", "observables", 0, 0, 0)}


def test_honour_maps_a_full_width_layout_twice(api, ignoring_api):
    # No ancillas: an observable already mapped by the client has the virtual width too,
    # so an honouring server maps it a second time and measures the wrong operator.
    original = _five_qubits()
    transpiled = _transpiled(original)
    labels = ["IXXII", "ZZIII", "IIIYY", "ZIZII"]
    physical = _physical(labels, transpiled)
    correct = _exact(original, labels)
    twice = _exact(transpiled, _physical(physical, transpiled))
    assert np.min(np.abs(twice - correct)) > 0.05  # every observable tells the two apart
    values, errors = _estimate(api, transpiled, physical)
    assert _agrees(values, errors, twice), (values, twice, errors)
    values, errors = _estimate(ignoring_api, transpiled, physical)
    assert _agrees(values, errors, correct), (values, correct, errors)


@pytest.mark.parametrize("setting", ["honour", "ignore"])
def test_sampling_a_laid_out_circuit_is_unaffected(api, ignoring_api, setting):
    circuit = QuantumCircuit(3)
    circuit.x(0)
    circuit.cx(0, 2)
    circuit.measure_all()
    transpiled = _transpiled(circuit)
    server = api if setting == "honour" else ignoring_api
    exp_id = server.experiment()
    circuit_id = server.upload(exp_id, transpiled)
    job = server.run(experiment_id=exp_id, circuit_ids=[circuit_id], shots=50)
    assert job["quantum_results"] == [{"101": 1.0}]
