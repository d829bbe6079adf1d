"""Shared fixtures: the emulator on a free loopback port, over real HTTP."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

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
