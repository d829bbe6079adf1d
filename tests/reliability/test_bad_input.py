"""The bad-input table (docs/errors.md): each case raises a clear error and sends nothing."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import numpy as np
import pytest
from qiskit.circuit import Instruction, Parameter, QuantumCircuit
from qiskit.quantum_info import SparsePauliOp
from shared_circuits import bell

from qiskit_haiqu import (
    AuthenticationError,
    HaiquClient,
    HaiquEstimator,
    HaiquInputError,
    HaiquSampler,
    InvalidRequestError,
    OutdatedClientError,
)


def _parameterised() -> QuantumCircuit:
    theta = Parameter("theta")
    qc = QuantumCircuit(1)
    qc.ry(theta, 0)
    qc.measure_all()
    return qc


def _two_parameters() -> QuantumCircuit:
    qc = QuantumCircuit(2)
    qc.rx(Parameter("a"), 0)
    qc.rx(Parameter("b"), 1)
    qc.measure_all()
    return qc


def _unserialisable() -> QuantumCircuit:
    qc = QuantumCircuit(1, 1)
    qc.append(Instruction("opaque_thing", 1, 0, [object()]), [0])
    qc.measure(0, 0)
    return qc


Case = tuple[str, Callable[[Any, Any], object], type[BaseException], str]

CASES: list[Case] = [
    ("shots 0", lambda s, e: s.run([bell()], shots=0), ValueError, "shots must be positive"),
    ("shots negative", lambda s, e: s.run([(bell(), None, -5)]), ValueError, "positive"),
    ("shots not an integer", lambda s, e: s.run([bell()], shots=2.5), TypeError, "integer"),
    (
        "precision 0 on a circuit wider than the statevector run",
        lambda s, e: e.run([(QuantumCircuit(21), "Z" * 21)], precision=0),
        ValueError,
        "limited to 20 qubits",
    ),
    (
        "precision negative",
        lambda s, e: e.run([(bell(), "ZZ")], precision=-0.1),
        ValueError,
        "precision",
    ),
    (
        "wrong number of values",
        lambda s, e: s.run([(_two_parameters(), [1.0, 2.0, 3.0])]),
        ValueError,
        "inconsistent",
    ),
    ("missing values", lambda s, e: s.run([_parameterised()]), ValueError, "number of values"),
    (
        "NaN value",
        lambda s, e: s.run([(_parameterised(), [np.nan])]),
        HaiquInputError,
        "non-finite",
    ),
    (
        "infinite value",
        lambda s, e: s.run([(_parameterised(), [np.inf])]),
        HaiquInputError,
        "non-finite",
    ),
    (
        "non-numeric value",
        lambda s, e: s.run([(_parameterised(), ["abc"])]),
        HaiquInputError,
        "must be real numbers",
    ),
    (
        "complex coefficient",
        lambda s, e: e.run([(bell(), SparsePauliOp(["ZZ", "XY"], [1, 2j]))]),
        HaiquInputError,
        "'XY'",
    ),
    (
        "observable width",
        lambda s, e: e.run([(bell(), "ZZZ")]),
        ValueError,
        "number of qubits",
    ),
    ("unwrapped circuit", lambda s, e: s.run(bell()), ValueError, "wrap it with"),
    ("not a circuit", lambda s, e: s.run([("not a circuit",)]), TypeError, "QuantumCircuit"),
    ("QPY cannot serialise", lambda s, e: s.run([_unserialisable()]), HaiquInputError, "QPY"),
    ("register name DataBin refuses", lambda s, e: s.run([_bad_register()]), ValueError, "_data"),
    (
        "unknown parameter name",
        lambda s, e: s.run([(_one_parameter(), {"b": 0.5})]),
        KeyError,
        "no parameter named 'b'",
    ),
]


def _bad_register() -> QuantumCircuit:
    from qiskit.circuit import ClassicalRegister, QuantumRegister

    return QuantumCircuit(QuantumRegister(1), ClassicalRegister(1, "_data"))


def _one_parameter() -> QuantumCircuit:
    from qiskit.circuit import Parameter

    qc = QuantumCircuit(1)
    qc.rx(Parameter("a"), 0)
    qc.measure_all()
    return qc


@pytest.mark.parametrize(("name", "call", "error", "match"), CASES, ids=[c[0] for c in CASES])
def test_bad_input_is_refused_before_anything_is_sent(
    client, request_log, name, call, error, match
):
    sampler = HaiquSampler("aer_simulator", client=client)
    estimator = HaiquEstimator("aer_simulator", client=client)
    with pytest.raises(error, match=match):
        call(sampler, estimator)
    assert request_log.api_calls() == []


def test_empty_pub_list_is_an_empty_result_without_requests(client, request_log):
    assert len(HaiquSampler("aer_simulator", client=client).run([]).result()) == 0
    assert len(HaiquEstimator("aer_simulator", client=client).run([]).result()) == 0
    assert request_log.api_calls() == []


def test_unknown_device_is_refused_before_any_upload(client, request_log):
    with pytest.raises(HaiquInputError, match="Unknown device 'ibm_nowhere'.*aer_simulator"):
        HaiquSampler("ibm_nowhere", client=client).run([bell()])
    assert request_log.count("POST", "/circuits") == 0
    assert request_log.count("POST", "/run") == 0


def test_circuit_larger_than_the_device_allows(client, request_log):
    qc = QuantumCircuit(30)
    qc.h(0)
    qc.measure_all()
    with pytest.raises(InvalidRequestError, match="30 qubits"):
        HaiquSampler("aer_simulator", client=client).run([qc])
    assert request_log.count("POST", "/run") == 1  # refused by the server, no job created


def test_wrong_api_key(emulator, request_log):
    with (
        HaiquClient(url=emulator.url, api_key="wrong-key") as client,
        pytest.raises(AuthenticationError, match="HAIQU_API_KEY") as info,
    ):
        HaiquSampler("aer_simulator", client=client).run([bell()])
    assert "wrong-key" not in str(info.value)
    assert request_log.count("POST", "/circuits") == 0


def test_outdated_client():
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            426,
            json={"detail": {"error_code": "outdated_sdk", "message": "Please upgrade the SDK."}},
        )

    client = HaiquClient(
        url="https://api.example.test", api_key="k", transport=httpx.MockTransport(handler)
    )
    with pytest.raises(OutdatedClientError, match="Please upgrade the SDK.*pip install --upgrade"):
        HaiquSampler("aer_simulator", client=client).run([bell()])
