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
    assert coerce_options(EstimatorOptions, {"default_precision": 0}).default_precision == 0
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
        assert "Valid options are: default_shots, device_credentials, device_options," in str(error)
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


# -- device credentials -------------------------------------------------------------------------

TOKEN = "ibm-token-0f9a3c"
AWS_SECRET = "aws-secret-77d1e4"


def _no_secret(text: str) -> None:
    assert TOKEN not in text
    assert AWS_SECRET not in text


def test_credentials_given_in_device_options_become_typed_secrets():
    options = SamplerOptions(
        device_options={
            "ibm_quantum_token": TOKEN,
            "ibm_quantum_instance": "my-instance",
            "seed_simulator": 3,
        }
    )
    assert options.device_options == {"seed_simulator": 3}
    credentials = options.device_credentials
    assert credentials.ibm_quantum_token is not None
    assert credentials.ibm_quantum_token.get_secret_value() == TOKEN
    assert credentials.ibm_quantum_instance == "my-instance"  # a setting, not a secret
    assert options.wire_device_options() == {
        "seed_simulator": 3,
        "ibm_quantum_token": TOKEN,
        "ibm_quantum_instance": "my-instance",
    }
    for text in (
        repr(options),
        str(options),
        repr(credentials),
        str(options.model_dump()),
        options.model_dump_json(),
    ):
        _no_secret(text)
    assert "**********" in repr(options)
    assert "my-instance" in repr(options)
    assert repr(credentials) == (
        "DeviceCredentials(ibm_quantum_token=SecretStr('**********'), "
        "ibm_quantum_instance='my-instance')"
    )


def test_credentials_assigned_or_set_in_place_are_moved_and_masked():
    options = EstimatorOptions()
    options.device_options = {"aws_secret_access_key": AWS_SECRET, "method": "statevector"}
    assert options.device_options == {"method": "statevector"}
    assert options.wire_device_options()["aws_secret_access_key"] == AWS_SECRET
    options.update(device_options={"ibm_quantum_token": TOKEN})  # added to the others
    assert set(options.device_credentials.to_wire()) == {
        "aws_secret_access_key",
        "ibm_quantum_token",
    }
    options.device_options["aws_session_token"] = AWS_SECRET + "-session"  # no validation
    _no_secret(repr(options) + str(options.model_dump()) + options.model_dump_json())
    assert options.wire_device_options()["aws_session_token"] == AWS_SECRET + "-session"
    run_copy = options.snapshot()  # each run's copy holds it where it belongs
    assert "aws_session_token" not in run_copy.device_options
    assert run_copy.wire_device_options() == options.wire_device_options()


def test_credentials_survive_copies_and_other_options_objects():
    import copy
    import pickle

    options = SamplerOptions(device_credentials={"ibm_quantum_token": TOKEN, "iqm_token": "q"})
    for clone in (
        copy.deepcopy(options),
        pickle.loads(pickle.dumps(options)),
        options.snapshot(),
        coerce_options(SamplerOptions, options),
    ):
        assert clone.wire_device_options() == {"ibm_quantum_token": TOKEN, "iqm_token": "q"}
    as_estimator = coerce_options(EstimatorOptions, options)  # built from its model_dump()
    assert as_estimator.wire_device_options() == {"ibm_quantum_token": TOKEN, "iqm_token": "q"}


def test_bad_credentials_are_refused_without_repeating_them():
    with pytest.raises(HaiquInputError) as twice:
        SamplerOptions(
            device_options={"ibm_quantum_token": TOKEN},
            device_credentials={"ibm_quantum_token": TOKEN + "-other"},
        )
    assert "ibm_quantum_token is given twice" in str(twice.value)
    same = SamplerOptions(
        device_options={"ibm_quantum_token": TOKEN}, device_credentials={"ibm_quantum_token": TOKEN}
    )
    assert same.wire_device_options() == {"ibm_quantum_token": TOKEN}
    with pytest.raises(HaiquInputError, match="device_credentials=a str: input should") as whole:
        SamplerOptions(device_credentials="short-token")  # type: ignore[arg-type]
    with pytest.raises(HaiquInputError, match="device_credentials.iqm_token=a list") as wrong:
        SamplerOptions(device_credentials={"iqm_token": ["short-token"]})
    with pytest.raises(HaiquInputError, match="Unknown option 'iqm_tokn'") as unknown:
        SamplerOptions(device_credentials={"iqm_tokn": "short-token"})
    for error in (twice.value, whole.value, wrong.value, unknown.value):
        _no_secret(str(error))
        assert "short-token" not in str(error)


ENVIRONMENT = {
    "AWS_ACCESS_KEY_ID": "AKIA-from-env",
    "AWS_SECRET_ACCESS_KEY": "aws-secret-from-env",
    "AWS_SESSION_TOKEN": "",  # set but empty: not a credential
    "AWS_REGION": "eu-west-3",
    "AWS_DEFAULT_REGION": "us-west-2",  # AWS_REGION comes first, as for the SDK
    "IQM_TOKEN": "iqm-from-env",
    "IQM_SERVER_URL": "https://iqm.example.test",
}


@pytest.mark.parametrize(
    ("device_id", "expected"),
    [
        (
            "aws_iqm_garnet",  # an AWS-hosted IQM device: AWS credentials, as the SDK routes it
            {
                "aws_access_key_id": "AKIA-from-env",
                "aws_secret_access_key": "aws-secret-from-env",
                "aws_default_region": "eu-west-3",
            },
        ),
        ("iqm_garnet", {"iqm_token": "iqm-from-env", "iqm_server_url": "https://iqm.example.test"}),
        ("ibm_torino", {}),
        ("aer_simulator", {}),
        ("fake_kyiv", {}),
    ],
)
def test_unset_credentials_are_read_from_the_environment_for_their_vendor_only(
    monkeypatch, device_id, expected
):
    for name, value in ENVIRONMENT.items():
        monkeypatch.setenv(name, value)
    options = SamplerOptions(device_options={"seed_simulator": 1})
    assert options.for_device(device_id).wire_device_options() == {"seed_simulator": 1, **expected}
    assert options.device_credentials.to_wire() == {}  # the options themselves are unchanged
    dry = SamplerOptions(dry_run=True)  # as the SDK: no environment credentials on dry runs
    assert dry.for_device(device_id).device_credentials.to_wire() == {}


def test_credentials_given_win_over_the_environment(monkeypatch):
    for name, value in ENVIRONMENT.items():
        monkeypatch.setenv(name, value)
    options = SamplerOptions(device_credentials={"aws_access_key_id": "AKIA-given"})
    wire = options.for_device("aws_sv1").device_credentials.to_wire()
    assert wire["aws_access_key_id"] == "AKIA-given"
    assert wire["aws_secret_access_key"] == "aws-secret-from-env"
    _no_secret(repr(options.for_device("aws_sv1")))
    assert "aws-secret-from-env" not in repr(options.for_device("aws_sv1"))


def test_a_noise_model_object_is_sent_as_its_dict_and_runs(client, request_log):
    """A qiskit-aer NoiseModel as noise_model works (it failed in the JSON encoder after
    three requests); a value JSON cannot carry is refused when set, before any request."""
    from qiskit.circuit import QuantumCircuit
    from qiskit_aer.noise import NoiseModel, ReadoutError

    from qiskit_haiqu import HaiquSampler

    noise = NoiseModel()
    noise.add_all_qubit_readout_error(ReadoutError([[0.5, 0.5], [0.5, 0.5]]))
    sampler = HaiquSampler(
        "aer_simulator", client=client, options={"device_options": {"noise_model": noise}}
    )
    qc = QuantumCircuit(1, 1)
    qc.measure(0, 0)
    counts = sampler.run([qc], shots=400).result()[0].data.c.get_counts()
    assert 100 < counts.get("1", 0) < 300  # the readout error of the model, not noiseless
    request_log.clear()
    with pytest.raises(HaiquInputError, match=r"device_options\['method'\] is a object"):
        sampler.options.device_options = {"method": object()}
    assert request_log.api_calls() == []


@pytest.mark.parametrize(
    ("device_options", "match"),
    [
        ({"seed_simulator": "5"}, r"device_options\['seed_simulator'\]: Input should be a valid"),
        ({"use_packing": "yes"}, r"device_options\['use_packing'\]"),
        ({"pack_size": 3}, "pack_size only takes effect with use_packing=True"),
        ({"pack_size": 1, "use_packing": True}, r"device_options\['pack_size'\]"),
        ({"matrix_product_state_max_bond_dimension": 0}, "max_bond_dimension"),
        ({"skip_transpilation": 1}, r"device_options\['skip_transpilation'\]"),
    ],
)
def test_documented_device_options_are_typed_when_set(device_options, match):
    with pytest.raises(HaiquInputError, match=match):
        SamplerOptions(device_options=device_options)
    options = SamplerOptions()
    with pytest.raises(HaiquInputError, match=match):
        options.device_options = device_options


def test_a_device_option_the_service_adds_later_passes_through():
    options = SamplerOptions(
        device_options={"seed_simulator": np.int64(7), "some_new_switch": {"level": 2}}
    )
    assert options.device_options == {"seed_simulator": 7, "some_new_switch": {"level": 2}}
    assert type(options.device_options["seed_simulator"]) is int
