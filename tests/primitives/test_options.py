"""Options are closed and validated when set."""

from __future__ import annotations

import numpy as np
import pytest
from pydantic import ValidationError

from qiskit_haiqu import EstimatorOptions, HaiquInputError, SamplerOptions
from qiskit_haiqu.primitives.options import coerce_options


def test_unknown_key_names_the_key_and_the_valid_ones():
    with pytest.raises(HaiquInputError) as info:
        coerce_options(SamplerOptions, {"default_shot": 10})
    message = str(info.value)
    assert "'default_shot'" in message
    assert "default_shots" in message


def test_invalid_values_refused_at_construction_and_assignment():
    with pytest.raises(HaiquInputError, match="default_shots"):
        coerce_options(SamplerOptions, {"default_shots": 0})
    options = SamplerOptions()
    with pytest.raises(ValidationError):
        options.default_shots = -1
    with pytest.raises(ValidationError):
        options.default_shots = 1.5  # type: ignore[assignment]
    with pytest.raises(HaiquInputError):
        coerce_options(EstimatorOptions, {"default_precision": 0})


def test_defaults():
    assert SamplerOptions().default_shots == 1024
    estimator = EstimatorOptions()
    assert estimator.default_precision == 0.015625
    assert estimator.default_shots is None


def test_error_mitigation_sends_only_what_was_set():
    options = coerce_options(
        SamplerOptions,
        {"use_mitigation": True, "error_mitigation_options": {"readout_mitigation": False}},
    )
    assert options.error_mitigation_options.to_wire() == {"readout_mitigation": False}
    with pytest.raises(HaiquInputError):
        coerce_options(SamplerOptions, {"error_mitigation_options": {"twirl": True}})


def test_numpy_numbers_are_taken_wherever_a_number_goes(client):
    """As Qiskit's primitives take them: options, shots, precision, values, coefficients."""
    from qiskit.circuit import Parameter, QuantumCircuit
    from qiskit.quantum_info import SparsePauliOp

    from qiskit_haiqu import HaiquEstimator, HaiquSampler

    sampler = HaiquSampler("aer_simulator", client=client, options={"default_shots": np.int64(7)})
    estimator = HaiquEstimator(
        "aer_simulator", client=client, options={"default_precision": np.float32(0.25)}
    )
    estimator.options.default_shots = np.int32(16)
    assert type(sampler.options.default_shots) is int
    theta = Parameter("theta")
    qc = QuantumCircuit(1)
    qc.rx(theta, 0)
    qc.measure_all()
    results = sampler.run(
        [(qc, [np.float32(np.pi)]), (qc, np.array([0.0]), np.int32(5))], shots=np.int64(9)
    ).result()
    assert results[0].data.meas.get_counts() == {"1": 9}
    assert results[1].data.meas.get_counts() == {"0": 5}
    observable = SparsePauliOp(["Z"], np.array([np.float32(2.0)]))
    evs = estimator.run([(QuantumCircuit(1), observable, None, np.float16(0.5))]).result()
    assert float(evs[0].data.evs) == 2.0


def test_default_shots_and_precision_read_as_in_qiskits_primitives(client):
    from qiskit_haiqu import HaiquEstimator, HaiquSampler

    sampler = HaiquSampler("aer_simulator", client=client, options={"default_shots": 77})
    assert sampler.default_shots == 77
    sampler.options.default_shots = 5
    assert sampler.default_shots == 5
    estimator = HaiquEstimator("aer_simulator", client=client)
    assert estimator.default_precision == 0.015625
