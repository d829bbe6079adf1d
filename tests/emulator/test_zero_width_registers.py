"""Zero-width classical registers (``ClassicalRegister(0, "c1")``) are accepted everywhere.

Qiskit's StatevectorSampler, BackendSamplerV2 and Aer's SamplerV2 accept them (the
regression test of Qiskit issue 12043), and so must the service the emulator models.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest
from qiskit import ClassicalRegister, QuantumCircuit, QuantumRegister
from qiskit.circuit import Parameter
from qiskit.quantum_info import Statevector
from qiskit_aer import AerSimulator

from ._servers import emulator_api
from ._support import Api


def _issue_12043() -> QuantumCircuit:
    """Qiskit's regression circuit: an empty register before the measured one."""
    circuit = QuantumCircuit(QuantumRegister(1, "q"), ClassicalRegister(0, "c1"))
    circuit.add_register(ClassicalRegister(1, "c2"))
    circuit.x(0)
    circuit.measure(0, 0)
    return circuit


def _empty_between() -> QuantumCircuit:
    circuit = QuantumCircuit(QuantumRegister(3, "q"), ClassicalRegister(1, "a"))
    circuit.add_register(ClassicalRegister(0, "empty"))
    circuit.add_register(ClassicalRegister(2, "b"))
    circuit.x([0, 1])
    circuit.measure(range(3), range(3))
    return circuit


def _empty_last() -> QuantumCircuit:
    circuit = QuantumCircuit(QuantumRegister(2, "q"), ClassicalRegister(2, "c0"))
    circuit.add_register(ClassicalRegister(0, "c1"))
    circuit.x(1)
    circuit.measure([0, 1], [0, 1])
    return circuit


BUILDERS = [_issue_12043, _empty_between, _empty_last]


def _aer_key(circuit: QuantumCircuit) -> str:
    (key,) = AerSimulator().run(circuit, shots=10).result().get_counts()
    return str(key)


@pytest.fixture(scope="module")
def keyed() -> Iterator[dict[str, Api]]:
    with emulator_api(key_format="full") as full, emulator_api(key_format="hex") as hexed:
        yield {"full": full, "hex": hexed}


@pytest.mark.parametrize("build", BUILDERS)
def test_sampled_with_aers_keys(api, exp_id, build):
    circuit = build()
    circuit_id = api.upload(exp_id, circuit)
    job = api.run(experiment_id=exp_id, circuit_ids=[circuit_id], shots=20)
    assert job["quantum_results"] == [{_aer_key(circuit): 1.0}]


def test_aer_writes_an_empty_group_for_an_empty_register():
    assert _aer_key(_issue_12043()) == "1 "
    assert _aer_key(_empty_between()) == "01  1"
    assert _aer_key(_empty_last()) == " 10"


@pytest.mark.parametrize(
    ("build", "full", "hexed"),
    [(_issue_12043, "1", "0x1"), (_empty_between, "011", "0x3"), (_empty_last, "10", "0x2")],
)
def test_other_key_formats(keyed, build, full, hexed):
    for key_format, key in (("full", full), ("hex", hexed)):
        api = keyed[key_format]
        exp_id = api.experiment()
        circuit_id = api.upload(exp_id, build())
        job = api.run(experiment_id=exp_id, circuit_ids=[circuit_id], shots=20)
        assert job["quantum_results"] == [{key: 1.0}], key_format


def test_sweep(api, exp_id):
    circuit = QuantumCircuit(QuantumRegister(1, "q"), ClassicalRegister(0, "c1"))
    circuit.add_register(ClassicalRegister(1, "c2"))
    circuit.rx(Parameter("t"), 0)
    circuit.measure(0, 0)
    circuit_id = api.upload(exp_id, circuit)
    job = api.run(
        experiment_id=exp_id, circuit_ids=[circuit_id], shots=20, parameters=[[0.0], [np.pi]]
    )
    assert job["quantum_results"] == [[{"0 ": 1.0}, {"1 ": 1.0}]]


def test_estimated(api, exp_id):
    circuit = QuantumCircuit(QuantumRegister(2, "q"), ClassicalRegister(0, "c1"))
    circuit.add_register(ClassicalRegister(2, "c2"))
    circuit.h(0)
    circuit.cx(0, 1)
    plain = api.upload(exp_id, circuit)
    measured = circuit.copy()
    measured.measure([0, 1], [0, 1])  # final: removed for the estimate
    mid = circuit.copy()
    mid.measure(0, 0)  # mid-circuit: the state is then a mixture, <XX> = 0
    mid.rz(0.3, 0)
    ids = [plain, api.upload(exp_id, measured), api.upload(exp_id, mid)]
    job = api.run(
        experiment_id=exp_id,
        circuit_ids=ids,
        shots=2000,
        observables=[[[["ZZ"], [1.0]], [["XX"], [1.0]]]] * 3,
        options={"seed_simulator": 5},
    )
    values, errors = job["quantum_results"], job["info"]["uncertainty"]
    assert values[0] == values[1] == [1.0, 1.0]
    assert values[2][0] == 1.0
    assert abs(values[2][1]) <= 5 * errors[2][1]
    assert errors[2][1] > 0.01


def test_statevector_run(api, exp_id):
    circuit = QuantumCircuit(QuantumRegister(2, "q"), ClassicalRegister(0, "c1"))
    circuit.h(0)
    circuit.cx(0, 1)
    measured = circuit.copy()
    measured.add_register(ClassicalRegister(2, "c2"))
    measured.measure([0, 1], [0, 1])
    circuit_id = api.upload(exp_id, measured)
    job = api.run(experiment_id=exp_id, circuit_ids=[circuit_id], run_type="StatevectorRun")
    ((real, imag),) = job["quantum_results"]
    expected = Statevector(circuit).data
    np.testing.assert_allclose(np.array(real) + 1j * np.array(imag), expected, atol=1e-12)
