"""The emulator's endpoints over real HTTP: auth, experiments, circuits, devices, 404s."""

from __future__ import annotations

import base64
import io
import json

import httpx
import plain_http
import pytest
from qiskit import QuantumCircuit, qpy

from qiskit_haiqu.api.models import Circuit, Device, Experiment, User
from qiskit_haiqu.emulator import EmulatorServer, EmulatorSettings, start_embedded

from ._support import API_KEY, bell, encode


def test_version_needs_no_key(emulator_url):
    response = plain_http.get(f"{emulator_url}/version")
    assert response.status_code == 200
    assert response.json()["version"]


@pytest.mark.parametrize("path", ["/health/auth", "/user", "/experiments", "/devices"])
def test_key_required(emulator_url, path):
    assert plain_http.get(f"{emulator_url}{path}").status_code == 401
    wrong = plain_http.get(f"{emulator_url}{path}", headers={"authorization": "wrong"})
    assert wrong.status_code == 401
    assert wrong.json() == {"detail": "Invalid or missing API key."}


def test_key_in_header_or_query(emulator_url):
    header = plain_http.get(f"{emulator_url}/health/auth", headers={"authorization": API_KEY})
    query = plain_http.get(f"{emulator_url}/health/auth", params={"HAIQU_API_KEY": API_KEY})
    bearer = plain_http.get(
        f"{emulator_url}/health/auth", headers={"authorization": f"Bearer {API_KEY}"}
    )
    assert header.status_code == query.status_code == 200
    assert header.json() == {"username": "emulator"}
    assert bearer.status_code == 401  # the raw key, as the SDK sends it


def test_any_key_when_none_configured():
    with EmulatorServer(EmulatorSettings()) as server:
        assert (
            plain_http.get(f"{server.url}/user", headers={"authorization": "x"}).status_code == 200
        )
        assert (
            plain_http.get(f"{server.url}/user", headers={"authorization": ""}).status_code == 401
        )


def test_user_carries_a_placeholder_key(api):
    response = api.http.get("/user")
    user = User.model_validate(response.json())
    assert user.api_access_key.get_secret_value() != API_KEY
    assert API_KEY not in response.text


def test_experiment_init_is_get_or_create(api):
    first = api.http.post("/experiments/init", json={"name": "same-name"}).json()
    again = api.http.post("/experiments/init", json={"name": "same-name", "extra": 1}).json()
    by_id = api.http.post("/experiments/init", json={"name": first["id"]}).json()
    assert first["id"] == again["id"] == by_id["id"]
    assert first["id"].startswith("exp-")
    experiment = Experiment.model_validate(first)
    assert API_KEY not in json.dumps(first)
    assert experiment.user.api_access_key.get_secret_value()
    created = api.http.post("/experiments", json={"name": "same-name"}).json()
    assert created["id"] != first["id"]
    listed = api.http.get("/experiments", params={"name": "same-name"}).json()
    assert {e["id"] for e in listed} == {first["id"], created["id"]}
    assert api.http.get(f"/experiments/{first['id']}").json()["name"] == "same-name"


def test_experiment_404_and_422(api):
    assert api.http.get("/experiments/exp-nope").status_code == 404
    response = api.http.post("/experiments/init", json={"description": "no name"})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "name"]


def test_circuit_upload_and_lookup(api, exp_id):
    circuit = bell()
    response = api.http.post(
        "/circuits",
        json={"experiment_id": exp_id, "qpy_dump": encode(circuit), "hash": "12345", "x": 1},
    )
    assert response.status_code == 200
    stored = Circuit.model_validate(response.json())
    assert stored.id.startswith("circ-")
    assert stored.analytics is not None
    assert stored.analytics["qubits"] == 2
    fetched = Circuit.model_validate(api.http.get(f"/circuits/{stored.id}").json())
    assert fetched.qpy is not None
    loaded = qpy.load(io.BytesIO(base64.b64decode(fetched.qpy)))[0]
    assert loaded == circuit
    by_hash = api.http.get(f"/experiments/{exp_id}/circuits/12345")
    assert by_hash.status_code == 200
    assert by_hash.json()["id"] == stored.id
    assert api.http.get(f"/experiments/{exp_id}/circuits/999").status_code == 404
    other = api.experiment()
    assert api.http.get(f"/experiments/{other}/circuits/12345").status_code == 404
    listed = api.http.get(f"/experiments/{exp_id}/circuits", params={"circuit_ids": [stored.id]})
    assert [c["id"] for c in listed.json()] == [stored.id]
    assert api.http.get("/circuits/circ-nope").status_code == 404


def test_circuit_parameter_names_are_reported(api, exp_id):
    from qiskit.circuit import Parameter

    circuit = QuantumCircuit(1)
    circuit.rx(Parameter("b"), 0)
    circuit.rz(Parameter("a"), 0)
    circuit_id = api.upload(exp_id, circuit)
    assert api.http.get(f"/circuits/{circuit_id}").json()["parameters"]["names"] == ["a", "b"]


@pytest.mark.parametrize(
    ("qpy_dump", "fragment"),
    [
        ("not base64!", "base64"),
        (base64.b64encode(b"garbage").decode(), "QPY"),
        ("", "at least 1"),
    ],
)
def test_bad_qpy_is_422(api, exp_id, qpy_dump, fragment):
    response = api.http.post(
        "/circuits", json={"experiment_id": exp_id, "qpy_dump": qpy_dump, "hash": "1"}
    )
    assert response.status_code == 422
    assert fragment in response.json()["detail"][0]["msg"]


def test_qpy_with_two_circuits_is_422(api, exp_id):
    buffer = io.BytesIO()
    qpy.dump([bell(), bell()], buffer)
    response = api.http.post(
        "/circuits",
        json={
            "experiment_id": exp_id,
            "qpy_dump": base64.b64encode(buffer.getvalue()).decode(),
            "hash": "1",
        },
    )
    assert response.status_code == 422
    assert "exactly one circuit" in response.json()["detail"][0]["msg"]


def test_circuit_for_unknown_experiment_is_422(api):
    response = api.http.post(
        "/circuits", json={"experiment_id": "exp-nope", "qpy_dump": encode(bell()), "hash": "1"}
    )
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "experiment_id"]


def test_devices(api):
    devices = [Device.model_validate(d) for d in api.http.get("/devices").json()]
    by_id = {d.id: d for d in devices}
    assert by_id["aer_simulator"].simulator
    fakes = [d for d in devices if d.id.startswith("fake_")]
    assert len(fakes) >= 3
    for device in fakes:
        assert device.operation_names
        assert "measure" in device.operation_names
        assert device.coupling_map
        assert all(len(edge) == 2 for edge in device.coupling_map)
        assert device.qubits > 1
    assert {"fake_brisbane", "fake_torino", "fake_kyiv"} <= set(by_id)
    manila = Device.model_validate(api.http.get("/devices/fake_manila").json())
    assert manila.qubits == 5
    assert api.http.get("/devices/no_such_device").status_code == 404


def test_unknown_path_is_404(api):
    assert api.http.get("/no/such/path").status_code == 404


def test_openapi_documents_the_api_but_not_the_controls(emulator_url):
    paths = plain_http.get(f"{emulator_url}/openapi.json").json()["paths"]
    assert "/run" in paths
    assert "/jobs/{job_id}" in paths
    assert not [p for p in paths if p.startswith("/_emulator")]


def test_body_size_and_job_limits():
    settings = EmulatorSettings(max_body_bytes=2000, max_circuits_per_job=2)
    with EmulatorServer(settings) as server:
        http = plain_http.client(base_url=server.url, headers={"authorization": "k"})
        big = http.post("/experiments", json={"name": "x", "description": "y" * 5000})
        assert big.status_code == 413
        experiment = http.post("/experiments", json={"name": "x"}).json()["id"]
        circuit = http.post(
            "/circuits", json={"experiment_id": experiment, "qpy_dump": encode(bell()), "hash": "1"}
        ).json()["id"]
        response = http.post(
            "/run", json={"experiment_id": experiment, "circuit_ids": [circuit] * 3}
        )
        assert response.status_code == 422
        assert "At most 2" in response.json()["detail"][0]["msg"]
        http.close()


def test_start_embedded_serves_on_a_free_loopback_port():
    server = start_embedded(api_keys=["only-this"])
    try:
        assert server.url.startswith("http://127.0.0.1:")
        assert not server.url.endswith(":8000")
        response = plain_http.get(f"{server.url}/user", headers={"authorization": "only-this"})
        assert response.status_code == 200
    finally:
        server.stop()
    with pytest.raises(httpx.ConnectError):
        plain_http.get(f"{server.url}/version")


def test_listing_survives_integers_beyond_64_bits(emulator_url):
    """Found by the schema fuzz: client-sent metrics with a huge integer broke the listing."""
    headers = {"authorization": API_KEY}
    created = plain_http.post(
        f"{emulator_url}/experiments",
        json={"name": "huge-metric", "metrics": {"x": 2**70}},
        headers=headers,
    )
    assert created.status_code == 200
    listing = plain_http.get(
        f"{emulator_url}/experiments", params={"name": "huge-metric"}, headers=headers
    )
    assert listing.status_code == 200
    assert listing.json()[0]["metrics"] == {"x": 2**70}
