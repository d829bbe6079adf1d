"""The API key and device credentials never leak; plain HTTP to remote hosts is refused."""

from __future__ import annotations

import json
import logging
import socket
import subprocess
import sys
import time
import traceback
from collections.abc import Callable

import httpx
import plain_http
import pytest
from qiskit.circuit import QuantumCircuit
from shared_circuits import bell

from qiskit_haiqu import (
    HaiquClient,
    HaiquConfigurationError,
    HaiquError,
    HaiquSampler,
)
from qiskit_haiqu.api.models import RunJob, RunSubmit
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
            if plain_http.get(f"{url}/version", timeout=1).status_code == 200:
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
        accepted = plain_http.get(f"{url}/devices/aer_simulator", params={"HAIQU_API_KEY": SECRET})
        refused = plain_http.get(f"{url}/user", params={"haiqu_api_key": SECRET + "-wrong"})
        with HaiquClient(url=url, api_key=SECRET, auth="query") as client:
            assert client.get_device("aer_simulator").id == "aer_simulator"
    finally:
        process.terminate()
        output = process.communicate(timeout=60)[0]
    assert (accepted.status_code, refused.status_code) == (200, 401)
    assert "GET /devices/aer_simulator?HAIQU_API_KEY=*** HTTP/1.1" in output  # logged, masked
    assert "/user?haiqu_api_key=*** " in output
    assert SECRET not in output


# -- device credentials -------------------------------------------------------------------------

SECRET_CREDENTIALS = {
    "ibm_quantum_token": "ibm-token-5f2c9e",
    "aws_access_key_id": "AKIAEXAMPLE7Q3Z",
    "aws_secret_access_key": "aws-secret-8d41b0",
    "aws_session_token": "aws-session-2e77aa",
    "iqm_token": "iqm-token-c03f11",
    "ionq_api_key": "ionq-key-9b6d24",
}
PLAIN_CREDENTIALS = {
    "ibm_quantum_instance": "crn:v1:instance-41",
    "aws_default_region": "eu-north-1",
    "iqm_server_url": "https://resonance.example.test",
}
ALL_CREDENTIALS = {**SECRET_CREDENTIALS, **PLAIN_CREDENTIALS}
CREDENTIAL_LOGGERS = ("qiskit_haiqu", "httpx", "httpcore")


def _assert_no_secret(text: str, where: str) -> None:
    for name, value in SECRET_CREDENTIALS.items():
        assert value not in text, f"{name} shows in {where}"


def test_the_credential_lists_agree():
    """Every name the /flow builder moves is a typed credential; secrets are SecretStr."""
    from pydantic import SecretStr

    from qiskit_haiqu.api.flow import CREDENTIAL_KEYS
    from qiskit_haiqu.api.redact import SECRET_CREDENTIAL_KEYS
    from qiskit_haiqu.primitives.options import DeviceCredentials

    assert set(ALL_CREDENTIALS) == set(CREDENTIAL_KEYS) == set(DeviceCredentials.model_fields)
    assert set(SECRET_CREDENTIALS) == set(SECRET_CREDENTIAL_KEYS)
    typed = DeviceCredentials(**ALL_CREDENTIALS)
    for name in ALL_CREDENTIALS:
        assert isinstance(getattr(typed, name), SecretStr) == (name in SECRET_CREDENTIALS)


@pytest.mark.parametrize("given", ["device_options", "device_credentials"])
def test_device_credentials_go_on_the_wire_and_show_nowhere(emulator, given, caplog):
    """Over HTTP: the service gets every credential in clear (in ``options``, as before) and
    echoes them back; no repr, log line or result shows a secret."""
    for name in CREDENTIAL_LOGGERS:
        caplog.set_level(logging.DEBUG, logger=name)
    options = {given: dict(ALL_CREDENTIALS), "device_options": {"seed_simulator": 7}}
    if given == "device_options":
        options = {"device_options": {**ALL_CREDENTIALS, "seed_simulator": 7}}
    with HaiquClient(url=emulator.url, api_key=EMULATOR_KEY) as client:
        sampler = HaiquSampler("aer_simulator", client=client, options=options)
        job = sampler.run([bell()], shots=16)
        result = job.result()
        echoed = client.get_job(job.job_id())
        assert isinstance(echoed, RunJob)
        assert {key: echoed.options[key] for key in ALL_CREDENTIALS} == ALL_CREDENTIALS
        assert echoed.options["seed_simulator"] == 7
        shown = {
            "repr(options)": repr(sampler.options),
            "str(options)": str(sampler.options),
            "options.model_dump()": str(sampler.options.model_dump()),
            "options.model_dump_json()": sampler.options.model_dump_json(),
            "repr(device_credentials)": repr(sampler.options.device_credentials),
            "repr(sampler)": repr(sampler),
            "repr(job)": repr(job),
            "repr(job.haiqu_jobs())": repr(job.haiqu_jobs()),
            "str(job.haiqu_jobs()[0])": str(job.haiqu_jobs()[0]),
            "repr(client.get_job())": repr(echoed),
            "result": f"{result!r} {result.metadata} {result[0].metadata}",
            "logs": caplog.text + repr([record.args for record in caplog.records]),
        }
    assert caplog.records, "nothing was logged: the check would prove nothing"
    assert "**********" in shown["repr(job.haiqu_jobs())"]  # masked where they are echoed
    assert PLAIN_CREDENTIALS["aws_default_region"] in shown["repr(options)"]  # not a secret
    for where, text in shown.items():
        _assert_no_secret(text, where)


def test_credentials_from_the_environment_go_only_to_their_vendors_devices(emulator, monkeypatch):
    """As the haiqu-sdk: AWS_* and IQM_* are read for aws*/iqm* devices only, so a key in the
    environment never travels with a job on another device."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", SECRET_CREDENTIALS["aws_access_key_id"])
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET_CREDENTIALS["aws_secret_access_key"])
    monkeypatch.setenv("IQM_TOKEN", SECRET_CREDENTIALS["iqm_token"])
    with HaiquClient(url=emulator.url, api_key=EMULATOR_KEY) as client:
        job = HaiquSampler("aer_simulator", client=client).run([bell()], shots=4)
        job.result()
        echoed = client.get_job(job.job_id())
    assert isinstance(echoed, RunJob)
    assert not set(echoed.options) & set(ALL_CREDENTIALS)


def test_a_refused_run_says_nothing_of_the_credentials(emulator, caplog):
    for name in CREDENTIAL_LOGGERS:
        caplog.set_level(logging.DEBUG, logger=name)
    # A value the client refuses when it is set (a seed that is not an integer) ...
    refused = {"device_options": {**ALL_CREDENTIALS, "seed_simulator": "not-a-seed"}}
    with pytest.raises(HaiquError) as at_once:
        HaiquSampler("aer_simulator", client=None, options=refused)
    assert "seed_simulator" in str(at_once.value)  # the refusal itself is explained
    _assert_no_secret(_everything_said(at_once.value), "the error")
    # ... and one only the service can judge (a simulation method it does not have).
    options = {"device_options": {**ALL_CREDENTIALS, "method": "no-such-method"}}
    with HaiquClient(url=emulator.url, api_key=EMULATOR_KEY) as client:
        sampler = HaiquSampler("aer_simulator", client=client, options=options)
        with pytest.raises(HaiquError) as info:
            sampler.run([bell()], shots=4).result()
    assert "no-such-method" in str(info.value)
    _assert_no_secret(_everything_said(info.value), "the error")
    _assert_no_secret(caplog.text, "the logs")


def test_a_validation_answer_that_echoes_the_body_is_masked(caplog):
    """A service answering FastAPI's default 422 repeats the refused input: the options with
    the credentials, and each credential by its location."""
    caplog.set_level(logging.DEBUG)

    def echo(request: httpx.Request) -> httpx.Response:
        options = json.loads(request.content)["options"]
        detail = [
            {"loc": ["body", "options"], "msg": "bad options", "type": "x", "input": options},
            {
                "loc": ["body", "options", "ionq_api_key"],
                "msg": "bad key",
                "type": "x",
                "input": options["ionq_api_key"],
            },
            {"loc": ["body"], "msg": f"refused {options!r}", "type": "x"},
        ]
        return httpx.Response(422, json={"detail": detail})

    client = _mock_client(echo, "header")
    body = RunSubmit.model_construct(
        experiment_id="exp-1", circuit_ids=["c-1"], options=dict(ALL_CREDENTIALS)
    )
    with pytest.raises(HaiquError) as info:
        client.submit_run(body)
    said = _everything_said(info.value) + repr(getattr(info.value, "detail", None))
    assert "bad options" in said
    assert "bad key" in said
    _assert_no_secret(said, "the 422 error")
    _assert_no_secret(caplog.text, "the logs")


def _cli(argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    from qiskit_haiqu.cli import main

    main(argv)
    captured = capsys.readouterr()
    return captured.out + captured.err


def test_the_cli_masks_the_credentials_the_service_echoes(emulator, capsys):
    options = {
        "device_options": dict(ALL_CREDENTIALS),
        "experiment_name": "security-cli-credentials",
    }
    with HaiquClient(url=emulator.url, api_key=EMULATOR_KEY) as client:
        job = HaiquSampler("aer_simulator", client=client, options=options).run([bell()], shots=8)
        job.result()
    common = ["--url", emulator.url, "--api-key", EMULATOR_KEY]
    listing = ["jobs", "--experiment", "security-cli-credentials"]
    outputs = {
        " ".join(argv): _cli([*argv, *common], capsys)
        for argv in (
            ["job", job.job_id(), "--json"],
            ["job", job.job_id()],
            [*listing, "--json"],
            listing,
            ["result", job.job_id(), "--json"],
            ["result", job.job_id()],
            ["result", job.job_id(), "--raw"],
        )
    }
    shown = json.loads(outputs[f"job {job.job_id()} --json"])
    assert shown["options"]["iqm_token"] == "**********"
    assert shown["options"]["aws_default_region"] == PLAIN_CREDENTIALS["aws_default_region"]
    assert json.loads(outputs[" ".join([*listing, "--json"])])[0]["options"]["ionq_api_key"] == (
        "**********"
    )
    for command, text in outputs.items():
        assert text.strip(), f"qiskit-haiqu {command} printed nothing"
        _assert_no_secret(text, f"qiskit-haiqu {command}")


def test_the_cli_masks_credentials_in_job_logs_it_prints(emulator, capsys):
    """A failed job's logs are the service's text; a credential written in them is masked."""
    with HaiquClient(url=emulator.url, api_key=EMULATOR_KEY) as client:
        job = HaiquSampler("aer_simulator", client=client).run([bell()], shots=8)
        job.result()
    token = SECRET_CREDENTIALS["ibm_quantum_token"]
    logs = f"backend refused options {{'ibm_quantum_token': '{token}'}}; ionq_api_key={token}"
    rule = {
        "method": "GET",
        "path": f"^/jobs/{job.job_id()}$",
        "action": "patch",
        "count": 10,
        "patch": {"status": "Error", "logs": logs},
    }
    plain_http.post(f"{emulator.url}/_emulator/faults", json=[rule]).raise_for_status()
    try:
        common = ["--url", emulator.url, "--api-key", EMULATOR_KEY]
        said = _cli(["job", job.job_id(), *common], capsys)
        said += _cli(["result", job.job_id(), *common], capsys)
        said += _cli(["job", job.job_id(), *common, "--json"], capsys)
    finally:
        plain_http.delete(f"{emulator.url}/_emulator/faults").raise_for_status()
    assert "backend refused options" in said
    assert token not in said
