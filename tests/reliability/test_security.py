"""The API key never leaks; plain HTTP to remote hosts is refused."""

from __future__ import annotations

import logging
import traceback
from collections.abc import Callable

import httpx
import pytest
from qiskit.circuit import QuantumCircuit

from qiskit_haiqu import (
    HaiquClient,
    HaiquConfigurationError,
    HaiquError,
    HaiquSampler,
)
from qiskit_haiqu.api.retry import RetryPolicy

SECRET = "sk-very-secret-key-0123456789"


def _everything_said(exc: BaseException) -> str:
    """Every text a user could see of an exception: str, repr, chain and traceback."""
    texts = ["".join(traceback.format_exception(exc))]
    seen = exc
    while seen is not None:
        texts += [str(seen), repr(seen), repr(getattr(seen, "args", ()))]
        texts += [str(v) for v in vars(seen).values()] if hasattr(seen, "__dict__") else []
        seen = seen.__cause__ or seen.__context__
    return "\n".join(texts)


def _mock_client(handler: Callable[[httpx.Request], httpx.Response], auth: str) -> HaiquClient:
    return HaiquClient(
        url="https://api.example.test",
        api_key=SECRET,
        auth=auth,  # type: ignore[arg-type]
        transport=httpx.MockTransport(handler),
        retry=RetryPolicy(max_attempts=2, sleep=lambda _: None),
    )


def _raise(exc: Exception) -> Callable[[httpx.Request], httpx.Response]:
    def handler(request: httpx.Request) -> httpx.Response:
        raise exc

    return handler


def _answer(status: int, body: bytes = b"{}") -> Callable[[httpx.Request], httpx.Response]:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(status, content=body)

    return handler


FAILURES = {
    "connect": lambda req: _raise(httpx.ConnectError(f"cannot connect to {req}"))(req),
    "read": lambda req: _raise(httpx.ReadError(f"read failed for {req.url}", request=req))(req),
    "timeout": lambda req: _raise(httpx.ReadTimeout(f"timed out: {req.url}", request=req))(req),
    "401": _answer(401, b'{"detail": "bad key"}'),
    "402": _answer(402),
    "404": _answer(404),
    "422": lambda req: httpx.Response(
        422,
        json={
            "detail": [{"loc": ["query", "HAIQU_API_KEY"], "msg": f"echo {req.url}", "type": "x"}]
        },
    ),
    "426": _answer(426, b'{"detail": {"error_code": "outdated_sdk", "message": "too old"}}'),
    "429": _answer(429),
    "500": lambda req: httpx.Response(500, text=f"boom at {req.url}"),
    "503": _answer(503),
    "bad-json": _answer(200, b"not json"),
}


@pytest.mark.parametrize("auth", ["header", "query"])
@pytest.mark.parametrize("failure", sorted(FAILURES))
def test_key_never_appears_in_errors_or_logs(failure, auth, caplog):
    caplog.set_level(logging.DEBUG)
    client = _mock_client(FAILURES[failure], auth)
    with pytest.raises(HaiquError) as info:
        client.get_device("aer_simulator")
    assert SECRET not in _everything_said(info.value)
    with pytest.raises(HaiquError) as info:
        client.get_job("jb-1")
    assert SECRET not in _everything_said(info.value)
    assert SECRET not in repr(client)
    assert SECRET not in caplog.text
    for record in caplog.records:
        assert SECRET not in record.getMessage()


def test_key_is_sent_where_asked():
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"version": "1"})

    _mock_client(handler, "header").version()
    _mock_client(handler, "query").version()
    assert seen[0].headers["authorization"] == SECRET
    assert "HAIQU_API_KEY" not in str(seen[0].url)
    assert seen[1].url.params["HAIQU_API_KEY"] == SECRET
    assert "authorization" not in seen[1].headers
    assert seen[0].headers["user-agent"].startswith("qiskit-haiqu/")


def test_key_not_in_primitive_or_job_repr(emulator):
    with HaiquClient(url=emulator.url, api_key="test-key-123") as client:
        sampler = HaiquSampler("aer_simulator", client=client)
        qc = QuantumCircuit(1, 1)
        qc.measure(0, 0)
        job = sampler.run([qc])
        job.result()
        for text in (repr(client), repr(job), str(job.result().metadata)):
            assert "test-key-123" not in text


@pytest.mark.parametrize(
    "url", ["http://api.haiqu.ai", "http://10.0.0.5:8000", "http://example.com/api"]
)
def test_plain_http_to_a_remote_host_is_refused(url):
    with pytest.raises(HaiquConfigurationError, match="in clear"):
        HaiquClient(url=url, api_key=SECRET)
    client = HaiquClient(url=url, api_key=SECRET, allow_insecure=True)
    assert client.base_url.startswith("http://")
    client.close()


@pytest.mark.parametrize("url", ["http://127.0.0.1:8000", "http://localhost:9", "http://[::1]:80"])
def test_plain_http_to_this_machine_is_allowed(url):
    HaiquClient(url=url, api_key=SECRET).close()


def test_missing_key_names_both_ways(monkeypatch):
    monkeypatch.delenv("HAIQU_API_KEY", raising=False)
    with pytest.raises(HaiquConfigurationError) as info:
        HaiquClient(url="https://api.example.test")
    assert "api_key=" in str(info.value)
    assert "HAIQU_API_KEY" in str(info.value)


def test_environment_configuration(monkeypatch):
    monkeypatch.setenv("HAIQU_API_URL", "https://api.example.test/some/path/")
    monkeypatch.setenv("HAIQU_API_KEY", SECRET)
    client = HaiquClient()
    assert client.base_url == "https://api.example.test"  # endpoints live at the host root
    assert SECRET not in repr(client)
    client.close()


def test_nothing_writes_the_key_to_disk(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HOME", str(tmp_path))
    client = _mock_client(_answer(200, b'{"version": "1"}'), "query")
    client.version()
    client.close()
    for path in tmp_path.rglob("*"):
        if path.is_file():
            assert SECRET.encode() not in path.read_bytes()
