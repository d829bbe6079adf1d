"""``POST /run`` refuses bad requests with FastAPI-style 422 bodies before any job exists."""

from __future__ import annotations

import json
from typing import Any

import plain_http
import pytest
from qiskit import QuantumCircuit
from qiskit.circuit import Parameter

from ._support import Api, bell


@pytest.fixture(scope="module")
def circuits(api: Api, exp_id: str) -> dict[str, str]:
    one = QuantumCircuit(1)
    one.ry(Parameter("t"), 0)
    two = QuantumCircuit(2)
    two.rx(Parameter("a"), 0)
    two.rx(Parameter("b"), 1)
    # Width limits count the qubits a circuit acts on (as Aer truncates idle ones).
    wide = QuantumCircuit(25)
    wide.h(range(25))
    thirteen = QuantumCircuit(13)
    thirteen.h(range(13))
    plain = QuantumCircuit(2)
    plain.h(0)
    return {
        "bell": api.upload(exp_id, bell()),
        "one": api.upload(exp_id, one),
        "two": api.upload(exp_id, two),
        "wide": api.upload(exp_id, wide),
        "thirteen": api.upload(exp_id, thirteen),
        "plain": api.upload(exp_id, plain),
    }


def _cases() -> list[tuple[str, dict[str, Any], str]]:
    """(case id, body changes with circuit names in circuit_ids, expected loc prefix)."""
    return [
        ("shots zero", {"shots": 0}, "body.shots"),
        ("shots string", {"shots": "100"}, "body.shots"),
        ("shots float", {"shots": 10.0}, "body.shots"),
        ("unknown experiment", {"experiment_id": "exp-nope"}, "body.experiment_id"),
        ("unknown circuit", {"circuit_ids": ["circ-nope"]}, "body.circuit_ids.0"),
        ("no circuits", {"circuit_ids": []}, "body.circuit_ids"),
        ("unknown device", {"device_id": "ibm_nowhere"}, "body.device_id"),
        ("row too long", {"circuit_ids": ["one"], "parameters": [[0.1, 0.2]]}, "body.parameters"),
        ("no rows for params", {"circuit_ids": ["one"], "parameters": None}, "body.parameters"),
        ("empty rows", {"circuit_ids": ["one"], "parameters": []}, "body.parameters"),
        ("rows for plain", {"circuit_ids": ["bell"], "parameters": [[0.1]]}, "body.parameters"),
        (
            "empty group plain",
            {"circuit_ids": ["bell", "bell"], "parameters": [[], []]},
            "body.parameters.0",
        ),
        (
            "2-D for two",
            {"circuit_ids": ["one", "one"], "parameters": [[0.1], [0.2]]},
            "body.parameters",
        ),
        (
            "3-D wrong outer",
            {"circuit_ids": ["one", "two"], "parameters": [[[0.1]]]},
            "body.parameters",
        ),
        ("string value", {"circuit_ids": ["one"], "parameters": [["0.1"]]}, "body.parameters"),
        ("bool value", {"circuit_ids": ["one"], "parameters": [[True]]}, "body.parameters"),
        (
            "obs wrong width",
            {"circuit_ids": ["plain"], "observables": [[[["Z"], [1.0]]]]},
            "body.observables.0.0",
        ),
        (
            "obs bad char",
            {"circuit_ids": ["plain"], "observables": [[[["ZA"], [1.0]]]]},
            "body.observables.0.0",
        ),
        (
            "obs lowercase",
            {"circuit_ids": ["plain"], "observables": [[[["zz"], [1.0]]]]},
            "body.observables.0.0",
        ),
        (
            "obs count mismatch",
            {"circuit_ids": ["plain"], "observables": [[[["ZZ", "XX"], [1.0]]]]},
            "body.observables.0.0",
        ),
        (
            "obs outer mismatch",
            {"circuit_ids": ["plain"], "observables": [[], []]},
            "body.observables",
        ),
        (
            "complex coeff string",
            {"circuit_ids": ["plain"], "observables": [[[["ZZ"], ["1+2j"]]]]},
            "body.observables",
        ),
        (
            "complex coeff pair",
            {"circuit_ids": ["plain"], "observables": [[[["ZZ"], [[1, 2]]]]]},
            "body.observables",
        ),
        (
            "numeric string coeff",
            {"circuit_ids": ["plain"], "observables": [[[["ZZ"], ["0.5"]]]]},
            "body.observables",
        ),
        ("too wide statevector", {"circuit_ids": ["wide"]}, "body.circuit_ids.0"),
        (
            "too wide noisy",
            {"circuit_ids": ["thirteen"], "device_id": "fake_algiers"},
            "body.circuit_ids.0",
        ),
        (
            "too wide with noise model",
            {"circuit_ids": ["thirteen"], "options": {"noise_model": {"errors": []}}},
            "body.circuit_ids.0",
        ),
        (
            "noise model on fake",
            {"device_id": "fake_manila", "options": {"noise_model": {}}},
            "body.options.noise_model",
        ),
        (
            "unreadable noise model",
            {"options": {"noise_model": {"errors": "x"}}},
            "body.options.noise_model",
        ),
        ("bad seed", {"options": {"seed_simulator": -1}}, "body.options.seed_simulator"),
        ("seed string", {"options": {"seed_simulator": "7"}}, "body.options.seed_simulator"),
        ("method not a string", {"options": {"method": 3}}, "body.options.method"),
        ("readout bases", {"readout_bases": ["ZZ"]}, "body.readout_bases"),
        ("bad run type", {"run_type": "Nope"}, "body.run_type"),
        (
            "statevector with params",
            {"circuit_ids": ["one"], "parameters": [[0.1]], "run_type": "StatevectorRun"},
            "body.parameters",
        ),
        (
            "statevector too wide",
            {"circuit_ids": ["wide"], "run_type": "StatevectorRun"},
            "body.circuit_ids.0",
        ),
    ]


def _jobs(api: Api, exp_id: str) -> int:
    return len(api.http.get(f"/experiments/{exp_id}/jobs", params={"limit": 10000}).json())


@pytest.mark.parametrize(
    ("changes", "loc"), [c[1:] for c in _cases()], ids=[c[0] for c in _cases()]
)
def test_refused_with_422(api, exp_id, circuits, changes, loc):
    body: dict[str, Any] = {"experiment_id": exp_id, "circuit_ids": ["bell"], "shots": 100}
    body.update(changes)
    body["circuit_ids"] = [circuits.get(c, c) for c in body["circuit_ids"]]
    before = _jobs(api, exp_id)
    response = api.http.post("/run", json=body)
    assert response.status_code == 422, response.text
    detail = response.json()["detail"]
    assert isinstance(detail, list)
    assert detail
    for item in detail:
        assert set(item) == {"loc", "msg", "type"}
        assert isinstance(item["msg"], str)
        assert item["msg"]
    locs = [".".join(str(part) for part in item["loc"]) for item in detail]
    assert any(found.startswith(loc) for found in locs), locs
    assert _jobs(api, exp_id) == before


@pytest.mark.parametrize("token", ["NaN", "Infinity", "-Infinity", "1e999"])
def test_non_finite_numbers_refused(api, exp_id, circuits, token):
    rows = (
        f'{{"experiment_id": "{exp_id}", "circuit_ids": ["{circuits["one"]}"], '
        f'"parameters": [[{token}]]}}'
    )
    coeffs = (
        f'{{"experiment_id": "{exp_id}", "circuit_ids": ["{circuits["plain"]}"], '
        f'"observables": [[[["ZZ"], [{token}]]]]}}'
    )
    for body in (rows, coeffs):
        response = api.http.post("/run", content=body, headers={"content-type": "application/json"})
        assert response.status_code == 422, response.text
        assert response.json()["detail"][0]["loc"][0] == "body"


@pytest.mark.parametrize("body", [b"", b"null", b"{not json", b"[]", b'{"experiment_id": 5}'])
def test_malformed_bodies_refused(api, body):
    response = api.http.post("/run", content=body, headers={"content-type": "application/json"})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"][0] == "body"


def test_unknown_fields_are_ignored(api, exp_id, circuits):
    job = api.submit(
        experiment_id=exp_id, circuit_ids=[circuits["bell"]], shots=10, future_field={"x": 1}
    )
    assert job["status"] in {"Submitted", "Queued", "Running", "Done"}


@pytest.mark.parametrize("options", [{"emulator_key_format": "octal"}, {"no_such_option": 1}])
def test_unknown_option_keys_are_ignored(api, exp_id, circuits, options):
    # The key format is the server's setting: the former per-request option is just unknown.
    job = api.run(experiment_id=exp_id, circuit_ids=[circuits["bell"]], shots=10, options=options)
    assert set(job["quantum_results"][0]) <= {"00", "11"}


def test_huge_query_and_path_values_are_not_500(api, exp_id):
    long = "x" * 5000
    assert api.http.get(f"/jobs/{long}").status_code == 404
    assert api.http.get(f"/experiments/{exp_id}/jobs", params={"limit": -1}).status_code == 422
    assert api.http.get(f"/experiments/{exp_id}/jobs", params={"limit": "a"}).status_code == 422
    response = api.http.post("/experiments", content=json.dumps({"name": long}))
    assert response.status_code == 422


def test_single_circuit_accepts_2d_and_3d_rows(api, exp_id, circuits):
    two_d = api.run(
        experiment_id=exp_id,
        circuit_ids=[circuits["one"]],
        parameters=[[0.0], [1.0]],
        observables=[[[["Z"], [1.0]]]],
        shots=100,
    )
    three_d = api.run(
        experiment_id=exp_id,
        circuit_ids=[circuits["one"]],
        parameters=[[[0.0], [1.0]]],
        observables=[[[["Z"], [1.0]]]],
        shots=100,
    )
    assert len(two_d["quantum_results"][0][0]) == len(three_d["quantum_results"][0][0]) == 2


def test_no_client_input_gets_a_500(emulator_url, api, exp_id):
    bodies = [
        b"\xff\xfe",
        b'{"experiment_id": []}',
        b'{"experiment_id": "e", "options": []}',
        b'{"experiment_id": "e", "parameters": {"a": 1}}',
        b'{"experiment_id": "e", "observables": [[[1, 2, 3]]]}',
    ]
    for body in bodies:
        response = api.http.post("/run", content=body)
        assert 400 <= response.status_code < 500, (body, response.status_code)
    assert plain_http.post(f"{emulator_url}/circuits", content=b"{").status_code == 401


@pytest.mark.parametrize(
    ("device", "width", "fix"),
    [
        ("aer_simulator", 25, "method='matrix_product_state'"),
        ("fake_manila", 6, "Transpile it for fake_manila"),
        ("fake_algiers", 13, "method='matrix_product_state'"),
    ],
)
def test_a_width_refusal_names_the_fix(api, exp_id, device, width, fix):
    qc = QuantumCircuit(width)
    qc.h(range(width))
    qc.measure_all()
    circuit = api.upload(exp_id, qc)
    response = api.http.post(
        "/run", json={"experiment_id": exp_id, "circuit_ids": [circuit], "device_id": device}
    )
    assert response.status_code == 422
    assert fix in str(response.json()["detail"])
