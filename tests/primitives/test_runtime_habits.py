"""What a user moving from qiskit-ibm-runtime types, and what each gets told."""

from __future__ import annotations

import re

import numpy as np
import pytest
from qiskit.circuit import Parameter, QuantumCircuit
from qiskit.primitives.containers.estimator_pub import EstimatorPub
from qiskit.primitives.containers.sampler_pub import SamplerPub
from qiskit.quantum_info import SparsePauliOp

from qiskit_haiqu import (
    EstimatorOptions,
    HaiquEstimator,
    HaiquInputError,
    HaiquSampler,
    SamplerOptions,
    UnknownOptionError,
)
from qiskit_haiqu.primitives.runtime_names import RUNTIME_OPTIONS
from qiskit_haiqu.primitives.validation import coerce_pubs

# Each qiskit-ibm-runtime option name, and what its message must point to on Haiqu.
EQUIVALENTS = {
    "resilience_level": "options.use_mitigation=True (and options.error_mitigation_options",
    "resilience": "options.error_mitigation_options (readout_mitigation",
    "dynamical_decoupling": "options.error_mitigation_options.dynamical_decoupling",
    "twirling": "options.error_mitigation_options.noise_tailoring=True",
    "execution": "Haiqu has no equivalent",
    "init_qubits": "Haiqu has no equivalent",
    "rep_delay": "Haiqu has no equivalent",
    "meas_type": "Haiqu has no equivalent",
    "environment": "options.progress=callable",
    "job_tags": "options.job_name or options.job_description",
    "log_level": "logging.getLogger('qiskit_haiqu')",
    "callback": "options.progress=callable",
    "max_execution_time": "job.result(timeout=...)",
    "simulator": "options.device_options (seed_simulator, noise_model",
    "seed_simulator": "options.device_options={'seed_simulator': 42}",
    "noise_model": "options.device_options={'noise_model'",
    "coupling_map": "Haiqu has no equivalent: the device defines it",
    "basis_gates": "Haiqu has no equivalent: the device defines it",
    "experimental": "Haiqu has no equivalent",
    "seed_estimator": "options.device_options={'seed_simulator': 42}",
}
OPTIONS = (SamplerOptions, EstimatorOptions)


def _check(error: BaseException, name: str) -> None:
    message = str(error)
    assert isinstance(error, UnknownOptionError)
    assert isinstance(error, AttributeError)
    assert isinstance(error, HaiquInputError)
    assert message.startswith(f"{name} is a qiskit-ibm-runtime option; ")
    assert EQUIVALENTS[name] in message
    assert "pydantic" not in message


def test_every_listed_name_has_a_message():
    assert set(EQUIVALENTS) <= set(RUNTIME_OPTIONS)


@pytest.mark.parametrize("options_class", OPTIONS)
@pytest.mark.parametrize("name", sorted(EQUIVALENTS))
def test_reading_a_runtime_option_names_the_haiqu_equivalent(options_class, name):
    with pytest.raises(AttributeError) as info:
        getattr(options_class(), name)
    _check(info.value, name)
    assert info.value.name == name


@pytest.mark.parametrize("options_class", OPTIONS)
@pytest.mark.parametrize("name", sorted(EQUIVALENTS))
def test_setting_a_runtime_option_names_the_haiqu_equivalent(options_class, name):
    options = options_class()
    before = options.model_dump()
    with pytest.raises(HaiquInputError) as info:
        setattr(options, name, 1)
    _check(info.value, name)
    assert options.model_dump() == before


@pytest.mark.parametrize("name", sorted(EQUIVALENTS))
def test_a_runtime_option_in_the_options_dict_names_the_haiqu_equivalent(client, name):
    value = {"enable": True} if name in ("dynamical_decoupling", "twirling") else 1
    with pytest.raises(HaiquInputError) as built:
        HaiquSampler("aer_simulator", client=client, options={name: value})
    _check(built.value, name)
    estimator = HaiquEstimator("aer_simulator", client=client)
    with pytest.raises(HaiquInputError) as replaced:
        estimator.options = {"default_precision": 0.1, name: value}
    _check(replaced.value, name)
    with pytest.raises(HaiquInputError) as constructed:
        EstimatorOptions(**{name: value})
    _check(constructed.value, name)


def test_the_estimator_resilience_level_message_in_full(client):
    estimator = HaiquEstimator("aer_simulator", client=client)
    with pytest.raises(HaiquInputError) as info:
        estimator.options.resilience_level = 1  # type: ignore[attr-defined]
    assert str(info.value) == (
        "resilience_level is a qiskit-ibm-runtime option; on Haiqu use "
        "options.use_mitigation=True (and options.error_mitigation_options to choose the "
        "techniques)."
    )


def test_runtime_style_nested_access_fails_at_the_group_name(client):
    sampler = HaiquSampler("aer_simulator", client=client)
    with pytest.raises(AttributeError, match="^dynamical_decoupling is a qiskit-ibm-runtime"):
        sampler.options.dynamical_decoupling.enable = True  # type: ignore[attr-defined]
    with pytest.raises(AttributeError, match="^environment is a qiskit-ibm-runtime"):
        sampler.options.environment.job_tags = ["a"]  # type: ignore[attr-defined]


def test_a_runtime_name_nested_in_error_mitigation_options_gets_its_hint_too():
    with pytest.raises(HaiquInputError, match="twirling is a qiskit-ibm-runtime option; on Hai"):
        SamplerOptions(error_mitigation_options={"twirling": True})


def test_the_options_runtime_and_haiqu_share_work():
    """default_shots and default_precision exist, with runtime's meaning."""
    estimator = EstimatorOptions(default_precision=0.01, default_shots=100)
    assert (estimator.default_precision, estimator.default_shots) == (0.01, 100)
    sampler = SamplerOptions(default_shots=100)
    sampler.update(default_shots=200)
    assert sampler.default_shots == 200


# -- V1 calls ---------------------------------------------------------------------------------


def _parameterised() -> QuantumCircuit:
    qc = QuantumCircuit(1)
    qc.ry(Parameter("theta"), 0)
    return qc


def test_v1_sampler_call_shows_the_pub_form():
    circuit = _parameterised()
    circuit.measure_all()
    with pytest.raises(TypeError) as info:
        coerce_pubs(circuit, SamplerPub.coerce, "Sampler", ([0.1],))
    message = str(info.value)
    assert "write sampler.run([(circuit, values)]) instead of sampler.run(circuit, values)" in (
        message
    )
    assert "V1 Sampler" in message


def test_v1_estimator_call_shows_the_pub_form():
    with pytest.raises(TypeError) as info:
        coerce_pubs([_parameterised()], EstimatorPub.coerce, "Estimator", ([SparsePauliOp("Z")],))
    assert (
        "write estimator.run([(circuit, observable, values)]) instead of "
        "estimator.run(circuit, observable, values)"
    ) in str(info.value)


V1_LISTS = [
    (
        "sampler circuit then values",
        lambda s, e, qc: s.run([qc, np.array([0.1])]),
        "Pub 0 is a circuit followed by a ndarray, which is no pub. sampler.run() takes a list",
    ),
    (
        "estimator circuit then observable",
        lambda s, e, qc: e.run([qc, SparsePauliOp("Z")]),
        "Pub 0 is a circuit followed by a SparsePauliOp, which is no pub. estimator.run() takes",
    ),
    (
        "estimator bare circuit",
        lambda s, e, qc: e.run([qc]),
        "Pub 0 is a bare circuit: an Estimator pub pairs a circuit with its observables. "
        "Write estimator.run([(circuit, observables)])",
    ),
    (
        "estimator unwrapped circuit",
        lambda s, e, qc: e.run(qc),
        "like `estimator.run([(circuit, observables)])` instead of `estimator.run(circuit)`",
    ),
]


@pytest.mark.parametrize(("name", "call", "expected"), V1_LISTS, ids=[c[0] for c in V1_LISTS])
def test_v1_style_pub_lists_are_refused_with_the_pub_form_before_any_request(
    client, request_log, name, call, expected
):
    sampler = HaiquSampler("aer_simulator", client=client)
    estimator = HaiquEstimator("aer_simulator", client=client)
    circuit = _parameterised()
    if name.startswith("sampler"):
        circuit.measure_all()
    with pytest.raises(ValueError, match=re.escape(expected)):
        call(sampler, estimator, circuit)
    assert request_log.api_calls() == []


def test_pub_lists_of_circuits_and_tuples_are_still_accepted(client):
    bell = QuantumCircuit(1)
    bell.x(0)
    bell.measure_all()
    sampler = HaiquSampler("aer_simulator", client=client)
    result = sampler.run([bell, (bell, None, 5), SamplerPub.coerce(bell, 3)], shots=7).result()
    assert [r.data.meas.num_shots for r in result] == [7, 5, 3]


def test_the_options_page_lists_every_runtime_name():
    from pathlib import Path

    page = (Path(__file__).resolve().parents[2] / "docs" / "options.rst").read_text()
    section = page.split("Names from qiskit-ibm-runtime")[1].split("Options of both")[0]
    missing = [name for name in RUNTIME_OPTIONS if f"``{name}``" not in section]
    assert not missing


def test_v1_calls_through_run_are_refused_with_the_pub_form_before_any_request(client, request_log):
    from qiskit_haiqu import HaiquEstimator, HaiquSampler

    circuit = _parameterised()
    measured = circuit.copy()
    measured.measure_all()
    with pytest.raises(TypeError, match=r"sampler\.run\(\[\(circuit, values\)\]\)"):
        HaiquSampler("aer_simulator", client=client).run(measured, [0.1])
    with pytest.raises(TypeError, match=r"estimator\.run\(\[\(circuit, observable, values\)\]\)"):
        HaiquEstimator("aer_simulator", client=client).run(circuit, SparsePauliOp("Z"), [0.1])
    assert request_log.api_calls() == []


def test_v1_lists_keep_qiskits_exception_type_and_words_first(client, request_log):
    """Qiskit's own tests match its messages: ours start with them and add the pub form."""
    from qiskit.primitives import StatevectorEstimator, StatevectorSampler

    from qiskit_haiqu import HaiquEstimator, HaiquSampler

    circuit = _parameterised()
    circuit.measure_all()
    plain = QuantumCircuit(1)
    plain.measure_all()
    cases = [
        (StatevectorSampler(), HaiquSampler("aer_simulator", client=client), [circuit, [0.1]]),
        (StatevectorSampler(), HaiquSampler("aer_simulator", client=client), [plain, [0.1]]),
        (
            StatevectorEstimator(),
            HaiquEstimator("aer_simulator", client=client),
            [QuantumCircuit(1), SparsePauliOp("Z")],
        ),
    ]
    for reference, ours, pubs in cases:
        with pytest.raises(Exception) as theirs:  # noqa: PT011 - the reference decides
            reference.run(pubs)
        with pytest.raises(type(theirs.value)) as mine:
            ours.run(pubs)
        if isinstance(theirs.value, ValueError):  # the messages Qiskit's tests match
            assert str(mine.value).startswith(str(theirs.value).split(".")[0])
        assert ".run([(" in str(mine.value)
    assert request_log.api_calls() == []
