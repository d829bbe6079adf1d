"""Test controls: the request log and fault injection (status, drop, drop_after, delay)."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from qiskit_haiqu.emulator import EmulatorServer, EmulatorSettings

from ._support import API_KEY, Api, bell

CONNECTION_LOST = (httpx.RemoteProtocolError, httpx.ReadError)


@pytest.fixture
def faults(emulator_url) -> Iterator[httpx.Client]:
    """A control client; every rule is cleared afterwards."""
    control = httpx.Client(base_url=f"{emulator_url}/_emulator")
    control.delete("/faults").raise_for_status()
    yield control
    control.delete("/faults").raise_for_status()
    control.close()


def _add(control: httpx.Client, *rules: dict[str, object]) -> list[dict[str, object]]:
    response = control.post("/faults", json=list(rules))
    assert response.status_code == 200, response.text
    return list(response.json())


def test_request_log_records_method_path_status(api, emulator_url):
    control = httpx.Client(base_url=f"{emulator_url}/_emulator")
    assert control.delete("/requests").status_code == 204
    api.http.get("/devices/aer_simulator", params={"HAIQU_API_KEY": API_KEY})
    api.http.get("/devices/nowhere")
    httpx.get(f"{emulator_url}/user")
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
    assert httpx.get(f"{emulator_url}/user").status_code == 503


def test_drop_closes_without_an_answer(api, faults, emulator_url):
    faults.delete("/requests")
    _add(faults, {"method": "GET", "path": "^/devices$", "action": "drop"})
    with pytest.raises(CONNECTION_LOST):
        api.http.get("/devices")
    assert api.http.get("/devices/aer_simulator").status_code == 200
    entries = faults.get("/requests").json()
    assert entries[0] == {"method": "GET", "path": "/devices", "status": 0, "fault": "drop"}


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
        httpx.get(f"{emulator_url}/version")


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
        control = httpx.Client(base_url=f"{server.url}/_emulator")
        assert control.post("/faults", json=[{"path": "x"}]).status_code == 404
        assert control.get("/faults").status_code == 404
        assert control.delete("/faults").status_code == 404
        assert control.get("/requests").status_code == 200
        control.close()
        client = Api(server.url)
        assert client.http.get("/user").status_code == 200
        client.close()
