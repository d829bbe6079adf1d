"""Test controls: the request log, fault injection (status, drop, drop_after, delay, garble,
patch) and the SDK version gate."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import httpx
import plain_http
import pytest

from qiskit_haiqu.emulator import EmulatorServer, EmulatorSettings

from ._support import API_KEY, Api, bell

CONNECTION_LOST = (httpx.RemoteProtocolError, httpx.ReadError)


@pytest.fixture
def faults(emulator_url) -> Iterator[httpx.Client]:
    """A control client; every rule is cleared afterwards."""
    control = plain_http.client(base_url=f"{emulator_url}/_emulator")
    control.delete("/faults").raise_for_status()
    yield control
    control.delete("/faults").raise_for_status()
    control.close()


def _add(control: httpx.Client, *rules: dict[str, object]) -> list[dict[str, object]]:
    response = control.post("/faults", json=list(rules))
    assert response.status_code == 200, response.text
    return list(response.json())


def test_request_log_records_method_path_status(api, emulator_url):
    control = plain_http.client(base_url=f"{emulator_url}/_emulator")
    assert control.delete("/requests").status_code == 204
    api.http.get("/devices/aer_simulator", params={"HAIQU_API_KEY": API_KEY})
    api.http.get("/devices/nowhere")
    plain_http.get(f"{emulator_url}/user")
    entries = control.get("/requests").json()
    assert [(e["method"], e["path"], e["status"]) for e in entries] == [
        ("GET", "/devices/aer_simulator", 200),
        ("GET", "/devices/nowhere", 404),
        ("GET", "/user", 401),
    ]
    assert API_KEY not in str(entries)
    control.delete("/requests")
    assert control.get("/requests").json() == []
    control.close()


def test_status_fault_with_retry_after(api, faults):
    _add(
        faults,
        {
            "method": "GET",
            "path": "^/devices/",
            "action": "status",
            "status": 503,
            "retry_after": 2,
        },
    )
    _add(faults, {"path": "^/user$", "status": 429, "retry_after": 1.5})
    first = api.http.get("/devices/aer_simulator")
    assert first.status_code == 503
    assert first.headers["retry-after"] == "2"
    assert "Injected" in first.json()["detail"]
    assert api.http.get("/devices/aer_simulator").status_code == 200
    limited = api.http.get("/user")
    assert limited.status_code == 429
    assert limited.headers["retry-after"] == "1.5"


def test_count_and_method_filter(api, faults):
    _add(faults, {"method": "POST", "path": "^/experiments", "count": 2, "status": 502})
    assert api.http.get("/experiments").status_code == 200
    statuses = [api.http.post("/experiments", json={"name": "f"}).status_code for _ in range(3)]
    assert statuses == [502, 502, 200]
    assert faults.get("/faults").json() == []


def test_faults_apply_before_auth(emulator_url, faults):
    _add(faults, {"path": "^/user$", "status": 503})
    assert plain_http.get(f"{emulator_url}/user").status_code == 503


def test_drop_closes_without_an_answer(api, faults, emulator_url):
    faults.delete("/requests")
    _add(faults, {"method": "GET", "path": "^/devices$", "action": "drop"})
    with pytest.raises(CONNECTION_LOST):
        api.http.get("/devices")
    assert api.http.get("/devices/aer_simulator").status_code == 200
    entries = faults.get("/requests").json()
    assert entries[0] == {
        "method": "GET",
        "path": "/devices",
        "status": 0,
        "fault": "drop",
        "sdk_version": None,
    }


def test_drop_after_handles_then_loses_the_reply(api, faults):
    experiment = api.experiment()
    circuit = api.upload(experiment, bell())
    _add(faults, {"method": "POST", "path": "^/run$", "action": "drop_after"})
    with pytest.raises(CONNECTION_LOST):
        api.http.post("/run", json={"experiment_id": experiment, "circuit_ids": [circuit]})
    jobs = api.http.get(f"/experiments/{experiment}/jobs").json()
    assert len(jobs) == 1
    assert api.wait(jobs[0]["id"])["status"] == "Done"
    runs = [e for e in faults.get("/requests").json() if e["path"] == "/run"]
    assert [(e["status"], e["fault"]) for e in runs][-1] == (200, "drop_after")


def test_drop_is_seen_by_a_fresh_connection_too(emulator_url, faults):
    _add(faults, {"path": "^/version$", "action": "drop"})
    with pytest.raises(CONNECTION_LOST):
        plain_http.get(f"{emulator_url}/version")


def test_delay_then_handle(api, faults):
    _add(faults, {"path": "^/health/auth$", "action": "delay", "delay": 0.2})
    response = api.http.get("/health/auth")
    assert response.status_code == 200
    assert response.json() == {"username": "emulator"}
    assert faults.get("/requests").json()[-1]["fault"] == "delay"


@pytest.mark.parametrize(
    "rule",
    [
        {"path": "(unclosed", "action": "status"},
        {"path": "^/x", "action": "explode"},
        {"path": "^/x", "status": 42},
        {"path": "^/x", "count": 0},
        {"path": "^/x", "surprise": True},
        {"action": "drop"},
    ],
)
def test_bad_rules_are_422(faults, rule):
    response = faults.post("/faults", json=[rule])
    assert response.status_code == 422
    assert faults.get("/faults").json() == []


def test_a_single_rule_object_is_accepted(faults):
    rules = _add(faults, {"path": "^/nothing$"})
    assert rules[0]["action"] == "status"
    assert rules[0]["count"] == 1


def test_faults_are_404_unless_enabled():
    with EmulatorServer(EmulatorSettings(api_keys=[API_KEY])) as server:
        control = plain_http.client(base_url=f"{server.url}/_emulator")
        assert control.post("/faults", json=[{"path": "x"}]).status_code == 404
        assert control.get("/faults").status_code == 404
        assert control.delete("/faults").status_code == 404
        assert control.get("/requests").status_code == 200
        assert control.put("/sdk-gate", json={"min_version": "9"}).status_code == 404
        assert control.get("/sdk-gate").status_code == 404
        assert control.delete("/sdk-gate").status_code == 404
        control.close()
        client = Api(server.url)
        assert client.http.get("/user").status_code == 200
        client.close()


def test_garble_handles_then_replaces_the_reply(api, faults):
    name = f"garbled-{uuid.uuid4()}"
    _add(faults, {"method": "POST", "path": "^/experiments/init$", "action": "garble"})
    garbled = api.http.post("/experiments/init", json={"name": name})
    assert garbled.status_code == 200
    assert garbled.content.startswith(b"<html>")
    assert garbled.headers["content-length"] == str(len(garbled.content))
    assert [e["name"] for e in api.http.get("/experiments", params={"name": name}).json()] == [
        name
    ]  # created all the same
    _add(faults, {"path": "^/devices/aer_simulator$", "action": "garble", "body": '{"id": 1'})
    assert api.http.get("/devices/aer_simulator").content == b'{"id": 1'
    assert faults.get("/requests").json()[-1]["fault"] == "garble"


def test_garble_and_patch_leave_refusals_alone(api, faults):
    _add(
        faults,
        {"path": "^/devices/nowhere$", "action": "garble"},
        {"path": "^/devices/nowhere$", "action": "patch", "patch": {"x": 1}},
    )
    for _ in range(2):
        refused = api.http.get("/devices/nowhere")
        assert refused.status_code == 404
        assert refused.json() == {"detail": "Device not found."}


def test_patch_sets_keys_of_a_json_reply(api, faults):
    _add(
        faults,
        {
            "method": "GET",
            "path": "^/devices/aer_simulator$",
            "action": "patch",
            "patch": {"qubits": None, "surprise": {"a": [1]}},
        },
    )
    patched = api.http.get("/devices/aer_simulator")
    assert patched.status_code == 200
    device = patched.json()
    assert device["id"] == "aer_simulator"
    assert device["qubits"] is None
    assert device["surprise"] == {"a": [1]}
    assert api.http.get("/devices/aer_simulator").json()["qubits"] > 0  # used up


@pytest.fixture
def gate(emulator_url) -> Iterator[httpx.Client]:
    control = plain_http.client(base_url=f"{emulator_url}/_emulator")
    yield control
    control.delete("/sdk-gate").raise_for_status()
    control.close()


def test_sdk_gate_answers_426_in_the_sdks_shape(api, gate):
    assert gate.get("/sdk-gate").json() == {"min_version": None}
    assert gate.put("/sdk-gate", json={"min_version": "1.7"}).status_code == 200
    assert gate.get("/sdk-gate").json() == {"min_version": "1.7"}
    gate.delete("/requests")

    def status(version: str | None) -> int:
        headers = {} if version is None else {"haiqu-sdk-version": version}
        return api.http.get("/devices/aer_simulator", headers=headers).status_code

    refused = api.http.get("/health/auth")  # the helper sends no haiqu-sdk-version
    assert refused.status_code == 426
    detail = refused.json()["detail"]
    assert detail["error_code"] == "outdated_sdk"
    assert "1.7 or newer" in detail["message"]
    assert [status(v) for v in ("1.6.9", "1.7.0", "1.7", "1.10.0", "2", "1.7.0rc1")] == [
        426,
        200,
        200,
        200,
        200,
        200,
    ]
    assert status("garbage") == 426
    entries = gate.get("/requests").json()
    assert [e["fault"] for e in entries[:2]] == ["sdk_gate", "sdk_gate"]
    assert [e["sdk_version"] for e in entries[:3]] == [None, "1.6.9", "1.7.0"]
    assert gate.delete("/sdk-gate").status_code == 204
    assert status(None) == 200


@pytest.mark.parametrize("body", [{"min_version": "soon"}, {"min_version": ""}, {}, {"x": 1}])
def test_bad_gates_are_422(gate, body):
    assert gate.put("/sdk-gate", json=body).status_code == 422
    assert gate.get("/sdk-gate").json() == {"min_version": None}
