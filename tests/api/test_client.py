"""HaiquClient: every method over real HTTP, and error mapping with mock transports."""

from __future__ import annotations

import ssl
from pathlib import Path

import certifi
import httpx
import numpy as np
import orjson
import pytest
from qiskit.circuit import QuantumCircuit

from qiskit_haiqu import (
    HaiquClient,
    HaiquInputError,
    HaiquInvalidResponseError,
    InsufficientCreditsError,
    InvalidRequestError,
    NotFoundError,
    RateLimitedError,
    UnknownJobStatusError,
)
from qiskit_haiqu.api.models import CircuitSubmit, RunJob, RunSubmit, parse_status
from qiskit_haiqu.api.retry import RetryPolicy
from qiskit_haiqu.api.transport import verifying_tls_context
from qiskit_haiqu.translate.circuits import circuit_fingerprint, encode_circuit

API_KEY = "test-key-123"


@pytest.mark.parametrize("auth", ["header", "query"])
def test_every_method_against_the_emulator(emulator, auth):
    with HaiquClient(url=emulator.url, api_key=API_KEY, auth=auth) as client:
        assert client.version()
        experiment = client.init_experiment("client-test", "made by the test")
        assert client.init_experiment("client-test").id == experiment.id  # get-or-create
        assert client.get_experiment(experiment.id).name == "client-test"
        # the user's access key is never shown
        assert "api_access_key" not in repr(experiment.user)
        assert str(experiment.user.api_access_key) == "**********"

        qc = QuantumCircuit(1, 1, name="x-measure")
        qc.x(0)
        qc.measure(0, 0)
        fingerprint = circuit_fingerprint(qc) + auth
        assert client.find_circuit(experiment.id, fingerprint) is None
        stored = client.upload_circuit(
            CircuitSubmit(
                experiment_id=experiment.id,
                qpy_dump=encode_circuit(qc),
                hash=fingerprint,
                name=qc.name,
            )
        )
        assert client.get_circuit(stored.id).hash == fingerprint
        found = client.find_circuit(experiment.id, fingerprint)
        assert found is not None
        assert found.id == stored.id

        devices = client.list_devices()
        assert "aer_simulator" in {d.id for d in devices}
        assert client.get_device("aer_simulator").qubits >= 24
        with pytest.raises(NotFoundError):
            client.get_device("nope")

        body = RunSubmit.model_construct(
            experiment_id=experiment.id,
            circuit_ids=[stored.id],
            shots=10,
            device_id="aer_simulator",
        )
        job = client.submit_run(body)
        assert isinstance(job, RunJob)
        assert job.job_type == "Run"
        listed = client.list_jobs(experiment.id, limit=5)
        assert job.id in {j.id for j in listed}
        fetched = client.get_job(job.id)
        assert isinstance(fetched, RunJob)
        cancelled = client.cancel_job(job.id)
        assert cancelled.id == job.id


def test_numpy_bodies_serialise_as_plain_json():
    seen: list[bytes] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.content)
        return httpx.Response(
            200,
            json={
                "id": "jb-1",
                "user_id": 1,
                "experiment_id": "e",
                "status": "Submitted",
                "job_type": "Run",
                "device_id": "d",
                "creation_date": "2026-01-01T00:00:00Z",
                "circuit_ids": ["c"],
                "shots": 5,
                "options": {},
                "use_mitigation": False,
                "dry_run": False,
                "run_type": "Run",
                "future_field": {"ignored": True},
            },
        )

    client = HaiquClient(url="https://x.test", api_key="k", transport=httpx.MockTransport(handler))
    body = RunSubmit.model_construct(
        experiment_id="e",
        circuit_ids=["c"],
        shots=5,
        parameters=np.array([[0.5, 1.0]]),
        observables=[[(["ZZ", "XI"], np.array([1.0, -0.5]))]],
    )
    client.submit_run(body)
    sent = orjson.loads(seen[0])
    assert sent["parameters"] == [[0.5, 1.0]]
    assert sent["observables"] == [[[["ZZ", "XI"], [1.0, -0.5]]]]
    assert "readout_bases" not in sent
    assert "[qh:" in sent["description"]  # the submission token


def _client(handler, **kwargs) -> HaiquClient:
    return HaiquClient(
        url="https://x.test",
        api_key="k",
        transport=httpx.MockTransport(handler),
        retry=RetryPolicy(sleep=lambda _: None, **kwargs),
    )


def test_422_detail_is_readable():
    def handler(request):
        return httpx.Response(
            422,
            json={"detail": [{"loc": ["body", "shots"], "msg": "must be >= 1", "type": "v"}]},
        )

    with pytest.raises(InvalidRequestError, match="body -> shots: must be >= 1") as info:
        _client(handler).get_device("d")
    assert info.value.status_code == 422
    assert info.value.detail[0]["msg"] == "must be >= 1"


def test_402_points_to_the_dashboard():
    with pytest.raises(InsufficientCreditsError, match="dashboard.haiqu.ai"):
        _client(lambda r: httpx.Response(402, json={"detail": "no credits"})).get_device("d")


def test_retries_then_succeeds_and_counts_attempts():
    calls = []

    def handler(request):
        calls.append(request)
        if len(calls) < 3:
            return httpx.Response(503)
        return httpx.Response(200, json={"version": "7"})

    assert _client(handler).version() == "7"
    assert len(calls) == 3


def test_429_raises_with_retry_after_when_the_budget_is_spent():
    def handler(request):
        return httpx.Response(429, headers={"retry-after": "30"})

    with pytest.raises(RateLimitedError) as info:
        _client(handler, max_total_wait=10).version()
    assert info.value.retry_after == 30


@pytest.mark.parametrize(
    "body", [b"not json", b'{"id": 3}', b"[]"], ids=["not-json", "wrong-shape", "wrong-type"]
)
def test_malformed_bodies_name_the_endpoint(body):
    with pytest.raises(HaiquInvalidResponseError, match="GET /devices/d"):
        _client(lambda r: httpx.Response(200, content=body)).get_device("d")


def test_unknown_status_is_named_not_guessed():
    with pytest.raises(UnknownJobStatusError, match="'Paused'"):
        parse_status("Paused", job_id="jb-9")


ID_CALLS = {
    "get_job": lambda client, value: client.get_job(value),
    "cancel_job": lambda client, value: client.cancel_job(value),
    "get_experiment": lambda client, value: client.get_experiment(value),
    "get_circuit": lambda client, value: client.get_circuit(value),
    "find_circuit-experiment": lambda client, value: client.find_circuit(value, "123"),
    "find_circuit-hash": lambda client, value: client.find_circuit("exp-1", value),
    "list_jobs": lambda client, value: client.list_jobs(value),
    "get_device": lambda client, value: client.get_device(value),
}


def _recording_client(seen: list[httpx.Request]) -> HaiquClient:
    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(404, json={"detail": "Not Found"})

    return _client(handler)


@pytest.mark.parametrize("value", [".", "..", "", "   "], ids=["dot", "dotdot", "empty", "blank"])
@pytest.mark.parametrize("call", sorted(ID_CALLS))
def test_dot_and_blank_ids_are_refused_before_any_request(call, value):
    seen: list[httpx.Request] = []
    with pytest.raises(HaiquInputError, match="is not a valid id") as info:
        ID_CALLS[call](_recording_client(seen), value)
    assert "'.' or '..'" in str(info.value)
    assert seen == []


@pytest.mark.parametrize(
    ("value", "path"),
    [
        ("a/b", b"/jobs/a%2Fb"),
        ("...", b"/jobs/..."),
        ("%2e%2e", b"/jobs/%252e%252e"),
        ("jb 1?x#y", b"/jobs/jb%201%3Fx%23y"),
        ("./..", b"/jobs/.%2F.."),
    ],
)
def test_other_ids_are_quoted_into_one_segment(value, path):
    seen: list[httpx.Request] = []
    with pytest.raises(NotFoundError):
        _recording_client(seen).get_job(value)
    assert [request.url.raw_path for request in seen] == [path]


def test_new_clients_share_one_tls_context_and_load_no_ca_bundle(monkeypatch, tmp_path):
    context = verifying_tls_context()
    assert context.verify_mode == ssl.CERT_REQUIRED
    assert context.check_hostname
    loads: list[str | None] = []
    original = ssl.SSLContext.load_verify_locations

    def counted(self: ssl.SSLContext, cafile=None, capath=None, cadata=None) -> None:
        loads.append(cafile)
        original(self, cafile, capath, cadata)

    monkeypatch.setattr(ssl.SSLContext, "load_verify_locations", counted)
    for _ in range(3):  # each used to load the whole CA bundle (~45 ms of CPU)
        HaiquClient(url="https://api.example.invalid", api_key=API_KEY).close()
    assert loads == []
    assert verifying_tls_context() is context
    # A CA bundle named in the environment is still honoured, as httpx honours it.
    bundle = tmp_path / "ca.pem"
    bundle.write_text(Path(certifi.where()).read_text(encoding="ascii"), encoding="ascii")
    monkeypatch.setenv("SSL_CERT_FILE", str(bundle))
    own = verifying_tls_context()
    assert own is not context
    assert loads == [str(bundle)]
    HaiquClient(url="https://api.example.invalid", api_key=API_KEY).close()
    assert len(loads) == 1
