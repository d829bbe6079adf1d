"""The haiqu-sdk protocol version: sent on every request, overridable, and a clear 426."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import plain_http
import pytest
from shared_circuits import bell

from qiskit_haiqu import (
    HaiquClient,
    HaiquConfigurationError,
    HaiquSampler,
    OutdatedClientError,
)
from qiskit_haiqu.api.protocol import (
    SDK_VERSION,
    SDK_VERSION_ENV,
    SDK_VERSION_HEADER,
    parse_version,
)

API_KEY = "test-key-123"


@pytest.fixture
def gate(emulator) -> Iterator[object]:
    """Sets the emulator's minimum haiqu-sdk-version; lifted afterwards."""

    def require(minimum: str) -> None:
        response = plain_http.put(
            f"{emulator.url}/_emulator/sdk-gate", json={"min_version": minimum}
        )
        response.raise_for_status()

    yield require
    plain_http.delete(f"{emulator.url}/_emulator/sdk-gate").raise_for_status()


def _recording(seen: list[httpx.Request]) -> httpx.MockTransport:
    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"version": "1"})

    return httpx.MockTransport(handler)


def test_the_version_is_the_sdk_wire_format_we_implement():
    assert SDK_VERSION == "1.7.0"
    assert SDK_VERSION_HEADER == "haiqu-sdk-version"


def test_every_request_of_a_run_carries_the_header(client, request_log):
    sampler = HaiquSampler("aer_simulator", client=client)
    counts = sampler.run([bell()], shots=100).result()[0].data.meas.get_counts()
    client.version()
    assert sum(counts.values()) == 100
    entries = request_log.entries()
    paths = {entry["path"] for entry in entries}
    assert {"/run", "/version", "/devices/aer_simulator"} <= paths
    assert any(path.startswith("/jobs/") for path in paths)
    assert [e for e in entries if e["sdk_version"] != SDK_VERSION] == []


def test_argument_then_environment_then_default(monkeypatch):
    seen: list[httpx.Request] = []
    monkeypatch.delenv(SDK_VERSION_ENV, raising=False)
    HaiquClient(url="https://x.test", api_key="k", transport=_recording(seen)).version()
    monkeypatch.setenv(SDK_VERSION_ENV, "1.8.2")
    HaiquClient(url="https://x.test", api_key="k", transport=_recording(seen)).version()
    explicit = HaiquClient(
        url="https://x.test", api_key="k", transport=_recording(seen), sdk_version="2.0.0"
    )
    explicit.version()
    assert [r.headers[SDK_VERSION_HEADER] for r in seen] == [SDK_VERSION, "1.8.2", "2.0.0"]
    assert explicit.sdk_version == "2.0.0"
    assert "sdk_version='2.0.0'" in repr(explicit)


@pytest.mark.parametrize("bad", ["latest", "1.7.0\nx", "", "v1", "١.٧"])
def test_an_unusable_version_is_refused_when_the_client_is_built(bad, monkeypatch):
    monkeypatch.delenv(SDK_VERSION_ENV, raising=False)
    with pytest.raises(HaiquConfigurationError, match="sdk_version=") as info:
        HaiquClient(url="https://x.test", api_key="k", sdk_version=bad)
    assert SDK_VERSION in str(info.value)
    if bad.strip():
        monkeypatch.setenv(SDK_VERSION_ENV, bad)
        with pytest.raises(HaiquConfigurationError, match=SDK_VERSION_ENV):
            HaiquClient(url="https://x.test", api_key="k")


def test_parse_version():
    assert parse_version("1.7.0") == (1, 7, 0)
    assert parse_version("1.10rc2") == (1, 10)
    assert parse_version("2") == (2,)
    assert parse_version("x1") is None
    assert parse_version(None) is None


def test_our_client_passes_the_gate(client, gate, request_log):
    gate(SDK_VERSION)
    sampler = HaiquSampler("aer_simulator", client=client)
    assert sampler.run([bell()], shots=50).result()[0].data.meas.num_shots == 50
    assert {e["status"] for e in request_log.entries()} <= {200, 404}


def test_a_raised_minimum_gives_a_clear_426_before_anything_is_created(emulator, gate, request_log):
    gate("99.0")
    with (
        HaiquClient(url=emulator.url, api_key=API_KEY) as client,
        pytest.raises(OutdatedClientError) as info,
    ):
        HaiquSampler("aer_simulator", client=client).run([bell()])
    error = info.value
    message = str(error)
    assert error.status_code == 426
    assert error.sdk_version == SDK_VERSION
    assert f"protocol version {SDK_VERSION}" in message  # what was sent
    assert "99.0 or newer is required" in message  # what the service said
    assert "HaiquClient(sdk_version=...)" in message  # how to set it
    assert SDK_VERSION_ENV in message
    assert "pip install --upgrade qiskit-haiqu" in message
    assert API_KEY not in message
    assert request_log.count("POST", "/circuits") == 0
    assert request_log.count("POST", "/run") == 0
    assert {e["fault"] for e in request_log.entries()} == {"sdk_gate"}


def test_a_newer_protocol_can_be_sent_by_argument_or_environment(
    emulator, gate, request_log, monkeypatch
):
    gate("1.8")
    with HaiquClient(url=emulator.url, api_key=API_KEY, sdk_version="1.8.0") as client:
        assert client.get_device("aer_simulator").id == "aer_simulator"
    monkeypatch.setenv(SDK_VERSION_ENV, "1.9.1")
    with HaiquClient(url=emulator.url, api_key=API_KEY) as client:
        assert client.get_device("aer_simulator").id == "aer_simulator"
    assert [e["sdk_version"] for e in request_log.entries()] == ["1.8.0", "1.9.1"]
    assert [e["status"] for e in request_log.entries()] == [200, 200]
