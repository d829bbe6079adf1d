"""Shared fixtures: the emulator on a free loopback port, over real HTTP."""

from __future__ import annotations

import gc
import os
from collections.abc import Iterator
from typing import Any

# The suite's workers outnumber the cores, and Aer's OpenMP threads (one per core unless told)
# spin while they wait, taking CPU from the other workers: 40 % more CPU for the same Aer run.
# One thread per Aer call; read once, when qiskit_aer is first imported (just below).
os.environ.setdefault("OMP_NUM_THREADS", "1")

import plain_http
import pytest

from qiskit_haiqu import HaiquClient
from qiskit_haiqu.emulator import EmulatorServer, EmulatorSettings

API_KEY = "test-key-123"


@pytest.fixture(scope="session")
def emulator() -> Iterator[EmulatorServer]:
    """One emulator for the session: a known key, fault injection enabled."""
    settings = EmulatorSettings(api_keys=frozenset({API_KEY}), enable_faults=True)
    with EmulatorServer(settings) as server:
        yield server


@pytest.fixture(scope="session")
def emulator_url(emulator: EmulatorServer) -> str:
    """The emulator's base URL."""
    return emulator.url


class RequestLog:
    """The emulator's log of the API requests it received (its test control endpoint)."""

    def __init__(self, url: str) -> None:
        self._url = url.rstrip("/")

    def clear(self) -> None:
        plain_http.delete(f"{self._url}/_emulator/requests").raise_for_status()

    def entries(self) -> list[dict[str, Any]]:
        response = plain_http.get(f"{self._url}/_emulator/requests")
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
def request_log(emulator: EmulatorServer) -> RequestLog:
    """The emulator's request log, cleared."""
    log = RequestLog(emulator.url)
    log.clear()
    return log


@pytest.fixture
def client(emulator: EmulatorServer) -> Iterator[HaiquClient]:
    """A client on the session's emulator."""
    with HaiquClient(url=emulator.url, api_key=API_KEY) as haiqu_client:
        yield haiqu_client


class EmulatorPool:
    """Emulators with other service behaviours (key formats, layout handling), one each."""

    def __init__(self) -> None:
        self._servers: dict[tuple[tuple[str, object], ...], EmulatorServer] = {}

    def client(self, **settings: object) -> HaiquClient:
        """A new client on the emulator with these :class:`EmulatorSettings` (the caller closes)."""
        key = tuple(sorted(settings.items()))
        if key not in self._servers:
            full = EmulatorSettings(api_keys=frozenset({API_KEY}), **settings)  # type: ignore[arg-type]
            self._servers[key] = EmulatorServer(full).start()
        return HaiquClient(url=self._servers[key].url, api_key=API_KEY)

    def close(self) -> None:
        for server in self._servers.values():
            server.stop()


@pytest.fixture(scope="session")
def emulators() -> Iterator[EmulatorPool]:
    """Emulators started on demand, one per distinct setting, stopped at the session's end."""
    pool = EmulatorPool()
    yield pool
    pool.close()


def pytest_collection_finish(session: pytest.Session) -> None:
    """Move what collection imported and built (lasting the whole run) out of the cyclic
    garbage collector's sight: its full passes otherwise walk those objects again each time."""
    gc.freeze()
