"""The API key never leaks; plain HTTP to remote hosts is refused."""

from __future__ import annotations

import logging
import socket
import subprocess
import sys
import time
import traceback
from collections.abc import Callable

import httpx
import pytest
from qiskit.circuit import QuantumCircuit
from shared_circuits import bell

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


EMULATOR_KEY = "test-key-123"
LOGGERS = ("qiskit_haiqu", "httpx", "httpcore")


def _capture_debug(caplog: pytest.LogCaptureFixture) -> None:
    for name in LOGGERS:
        caplog.set_level(logging.DEBUG, logger=name)


def _assert_not_logged(caplog: pytest.LogCaptureFixture, *secrets: str) -> None:
    assert caplog.records, "nothing was logged: the check would prove nothing"
    for secret in secrets:
        assert secret not in caplog.text
        for record in caplog.records:
            assert secret not in record.getMessage()
            assert secret not in repr(record.args)


@pytest.mark.parametrize("auth", ["header", "query"])
@pytest.mark.parametrize("padding", [("", "\n"), ("", "\r\n"), (" \t", "\n")])
def test_a_key_read_with_surrounding_whitespace_is_stripped_with_a_quiet_warning(
    emulator, auth, padding, caplog
):
    _capture_debug(caplog)
    padded = padding[0] + EMULATOR_KEY + padding[1]
    with pytest.warns(UserWarning, match="whitespace") as caught:
        client = HaiquClient(url=emulator.url, api_key=padded, auth=auth)  # type: ignore[arg-type]
    with client:
        counts = HaiquSampler("aer_simulator", client=client).run([bell()], shots=20)
        assert sum(counts.result()[0].data.meas.get_counts().values()) == 20
        text = repr(client)
    for warning in caught:
        assert EMULATOR_KEY not in str(warning.message)
    assert EMULATOR_KEY not in text
    _assert_not_logged(caplog, EMULATOR_KEY)


BAD_KEYS = {
    "cyrillic": "sk-ключ-0123456789",
    "accent": "sk-clé-0123456789",
    "nul": "sk-abc\x00def-0123456789",
    "tab-inside": "sk-abc\tdef-0123456789",
    "newline-inside": "sk-abc\ndef-0123456789",
    "zero-width": "sk-abc\u200bdef-0123456789",
}


@pytest.mark.parametrize("auth", ["header", "query"])
@pytest.mark.parametrize("name", sorted(BAD_KEYS))
def test_a_key_with_non_ascii_or_control_characters_is_refused_without_showing_it(
    name, auth, caplog, monkeypatch
):
    _capture_debug(caplog)
    key = BAD_KEYS[name]
    pieces = [piece for piece in key.replace("\x00", "-").split("-") if len(piece) > 2]
    with pytest.raises(HaiquConfigurationError, match="non-ASCII or control") as info:
        HaiquClient(url="https://api.example.test", api_key=key, auth=auth)  # type: ignore[arg-type]
    errors: list[BaseException] = [info.value]
    if "\x00" not in key:  # no environment variable can hold a NUL
        monkeypatch.setenv("HAIQU_API_KEY", key)
        with pytest.raises(HaiquConfigurationError) as from_env:
            HaiquClient(url="https://api.example.test", auth=auth)  # type: ignore[arg-type]
        errors.append(from_env.value)
    for error in errors:
        said = _everything_said(error)
        assert "UnicodeEncodeError" not in said
        assert key not in said
        for piece in pieces[1:]:  # "sk" aside, no part of the key
            assert piece not in said
    assert all(key not in record.getMessage() for record in caplog.records)


def test_query_auth_logs_no_key_at_debug_over_real_http(emulator, caplog):
    _capture_debug(caplog)
    with HaiquClient(url=emulator.url, api_key=EMULATOR_KEY, auth="query") as client:
        HaiquSampler("aer_simulator", client=client).run([bell()], shots=10).result()
        with pytest.raises(HaiquError) as info:
            client.get_job("jb-missing")
    urls = [r.getMessage() for r in caplog.records if r.name == "httpx"]
    assert any("HAIQU_API_KEY=***" in url for url in urls)  # httpx logged the URLs, masked
    assert EMULATOR_KEY not in _everything_said(info.value)
    _assert_not_logged(caplog, EMULATOR_KEY)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait_until_up(url: str, process: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"the emulator exited with {process.returncode}")
        try:
            if httpx.get(f"{url}/version", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.2)
    pytest.fail("the emulator did not start")


def test_the_emulator_access_log_masks_the_query_key():
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    command = [sys.executable, "-m", "qiskit_haiqu.emulator", "--port", str(port)]
    process = subprocess.Popen(  # noqa: S603 - our own module, fixed arguments
        [*command, "--api-key", SECRET],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        _wait_until_up(url, process)
        accepted = httpx.get(f"{url}/devices/aer_simulator", params={"HAIQU_API_KEY": SECRET})
        refused = httpx.get(f"{url}/user", params={"haiqu_api_key": SECRET + "-wrong"})
        with HaiquClient(url=url, api_key=SECRET, auth="query") as client:
            assert client.get_device("aer_simulator").id == "aer_simulator"
    finally:
        process.terminate()
        output = process.communicate(timeout=60)[0]
    assert (accepted.status_code, refused.status_code) == (200, 401)
    assert "GET /devices/aer_simulator?HAIQU_API_KEY=*** HTTP/1.1" in output  # logged, masked
    assert "/user?haiqu_api_key=*** " in output
    assert SECRET not in output
