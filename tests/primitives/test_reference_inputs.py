"""Inputs Qiskit's reference primitives take, which ours once failed on, agree with them."""

from __future__ import annotations

import numpy as np
from qiskit.circuit import QuantumCircuit
from qiskit.primitives import StatevectorEstimator, StatevectorSampler
from qiskit.quantum_info import Clifford, SparsePauliOp

from qiskit_haiqu import HaiquEstimator, HaiquSampler


def test_a_zero_qubit_estimator_circuit_gives_the_constant_exactly(client, request_log):
    pub = (QuantumCircuit(0), SparsePauliOp.from_list([("", 2.5)]))
    ours = HaiquEstimator("aer_simulator", client=client).run([pub]).result()[0]
    reference = StatevectorEstimator().run([pub]).result()[0]
    assert float(ours.data.evs) == float(reference.data.evs) == 2.5
    assert float(ours.data.stds) == 0.0
    assert request_log.count("POST", "/run") == 0  # nothing to measure: answered here


def test_a_clifford_in_a_circuit_runs_as_the_reference_runs_it(client):
    source = QuantumCircuit(2)
    source.h(0)
    source.cx(0, 1)
    source.x(1)
    qc = QuantumCircuit(2)
    qc.append(Clifford(source), [0, 1])
    qc.measure_all()
    ours = HaiquSampler("aer_simulator", client=client).run([qc], shots=200).result()[0]
    reference = StatevectorSampler().run([qc], shots=200).result()[0]
    assert (
        set(ours.data.meas.get_counts())
        == set(reference.data.meas.get_counts())
        == {
            "01",
            "10",
        }
    )


def test_a_float32_precision_is_taken(client):
    qc = QuantumCircuit(1)
    precision = np.float32(0.1)
    ours = HaiquEstimator("aer_simulator", client=client).run([(qc, "Z", None, precision)])
    result = ours.result()[0]
    assert float(result.data.evs) == 1.0
    assert result.metadata["shots"] == 100


def test_a_width_mismatch_names_both_widths_and_the_apply_layout_fix(client, request_log):
    import pytest
    from qiskit.providers.fake_provider import GenericBackendV2
    from qiskit.transpiler import generate_preset_pass_manager

    qc = QuantumCircuit(2)
    qc.h(0)
    qc.cx(0, 1)
    isa = generate_preset_pass_manager(1, backend=GenericBackendV2(5, seed=1)).run(qc)
    estimator = HaiquEstimator("aer_simulator", client=client)
    with pytest.raises(ValueError, match="number of qubits") as caught:  # Qiskit's words first
        estimator.run([(isa, SparsePauliOp("ZZ"))])
    message = str(caught.value)
    assert "act on 2 qubits and the circuit has 5" in message
    assert "observable.apply_layout(circuit.layout)" in message
    assert request_log.api_calls() == []
