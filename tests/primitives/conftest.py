"""Fixtures for the primitives tests: a client on the emulator and its request log."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from qiskit_haiqu import HaiquClient

API_KEY = "test-key-123"


class RequestLog:
    """The emulator's log of the API requests it received (its test control endpoint)."""

    def __init__(self, url: str) -> None:
        self._url = url.rstrip("/")

    def clear(self) -> None:
        httpx.delete(f"{self._url}/_emulator/requests").raise_for_status()

    def entries(self) -> list[dict[str, object]]:
        response = httpx.get(f"{self._url}/_emulator/requests")
        response.raise_for_status()
        return list(response.json())

    def count(self, method: str, path_prefix: str) -> int:
        return sum(
            1
            for e in self.entries()
            if e["method"] == method and str(e["path"]).startswith(path_prefix)
        )

    def api_calls(self) -> list[tuple[str, str]]:
        return [(str(e["method"]), str(e["path"])) for e in self.entries()]


@pytest.fixture
def client(emulator) -> Iterator[HaiquClient]:
    with HaiquClient(url=emulator.url, api_key=API_KEY) as haiqu_client:
        yield haiqu_client


@pytest.fixture
def request_log(emulator) -> RequestLog:
    log = RequestLog(emulator.url)
    log.clear()
    return log
