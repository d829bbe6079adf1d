"""Options are closed and validated when set."""

from __future__ import annotations

import numpy as np
import pytest

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
    with pytest.raises(HaiquInputError, match=r"default_shots=-1: input should be greater"):
        options.default_shots = -1
    with pytest.raises(HaiquInputError, match=r"default_shots=1\.5: input should be a valid int"):
        options.default_shots = 1.5  # type: ignore[assignment]
    assert options.default_shots == 1024  # a refused value leaves the option as it was
    with pytest.raises(HaiquInputError, match="default_precision=0: input should be greater"):
        coerce_options(EstimatorOptions, {"default_precision": 0})
    with pytest.raises(HaiquInputError, match="default_precision=-1"):
        EstimatorOptions(default_precision=-1)


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


INVALID = [
    (SamplerOptions, {"default_shots": 0}, "default_shots=0: input should be greater than or"),
    (SamplerOptions, {"progress": 3}, "progress=3: input should be a valid boolean or input"),
    (SamplerOptions, {"device_options": 5}, "device_options=5: input should be a valid dict"),
    (SamplerOptions, {"poll_interval": "fast"}, "poll_interval='fast': input should be a valid"),
    (
        EstimatorOptions,
        {"error_mitigation_options": {"readout_mitigation": "maybe"}},
        "error_mitigation_options.readout_mitigation='maybe': input should be a valid boolean",
    ),
    (SamplerOptions, {"job_name": "x" * 300}, "job_name=a str: string should have at most 200"),
]


@pytest.mark.parametrize(("model", "value", "expected"), INVALID)
def test_invalid_values_name_the_field_and_the_problem_without_pydantic_links(
    model, value, expected
):
    (name,) = value
    messages = []
    with pytest.raises(HaiquInputError) as built:
        coerce_options(model, value)
    messages.append(str(built.value))
    with pytest.raises(HaiquInputError) as constructed:
        model(**value)
    messages.append(str(constructed.value))
    if "." not in expected.partition("=")[0]:
        with pytest.raises(HaiquInputError) as assigned:
            setattr(model(), name, value[name])
        messages.append(str(assigned.value))
    for message in messages:
        assert message.startswith(f"Invalid {model.__name__}: ")
        assert expected in message
        assert "pydantic" not in message
        assert "http" not in message
        assert "For further information" not in message


def test_long_or_structured_values_are_not_repeated_in_messages():
    """Options carry device credentials and noise models: a message shows only their type."""
    secret = "ibm-token-" + "s" * 40
    with pytest.raises(HaiquInputError) as info:
        coerce_options(SamplerOptions, {"experiment_name": [secret]})
    assert "experiment_name=a list" in str(info.value)
    assert secret not in str(info.value)
    with pytest.raises(HaiquInputError) as info:
        coerce_options(SamplerOptions, {"job_description": secret * 20})
    assert secret not in str(info.value)


def test_unknown_names_are_attribute_errors_with_the_valid_ones():
    options = SamplerOptions()
    with pytest.raises(AttributeError) as read:
        _ = options.default_shot  # type: ignore[attr-defined]
    with pytest.raises(HaiquInputError) as assigned:
        options.default_shot = 10  # type: ignore[attr-defined]
    for error in (read.value, assigned.value):
        assert isinstance(error, AttributeError)
        assert isinstance(error, HaiquInputError)
        assert "Unknown option 'default_shot' for SamplerOptions" in str(error)
        assert "Did you mean 'default_shots'?" in str(error)
        assert "Valid options are: default_shots, device_options," in str(error)
    assert not hasattr(options, "no_such_option")
    assert getattr(options, "no_such_option", "fallback") == "fallback"
    with pytest.raises(HaiquInputError, match="Unknown option 'twirl' for ErrorMitigationOptions"):
        coerce_options(SamplerOptions, {"error_mitigation_options": {"twirl": True}})


def test_update_sets_several_options_each_validated():
    options = EstimatorOptions()
    options.update(default_precision=0.01, default_shots=np.int64(100))
    assert (options.default_precision, options.default_shots) == (0.01, 100)
    with pytest.raises(HaiquInputError, match="default_shots=0"):
        options.update(default_shots=0)
    assert options.default_shots == 100


def test_options_still_copy_and_pickle():
    import copy
    import pickle

    options = SamplerOptions(default_shots=5, error_mitigation_options={"noise_tailoring": True})
    for clone in (copy.deepcopy(options), pickle.loads(pickle.dumps(options))):
        assert clone == options
        assert clone.error_mitigation_options.noise_tailoring is True
