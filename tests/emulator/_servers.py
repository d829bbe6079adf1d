"""Emulators with non-default settings, for tests of server-side behaviours."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from qiskit_haiqu.emulator import EmulatorServer, EmulatorSettings

from ._support import API_KEY, Api


@contextmanager
def emulator_api(**settings: Any) -> Iterator[Api]:
    """An emulator of its own with these :class:`EmulatorSettings` fields, and a client."""
    config = EmulatorSettings(api_keys=(API_KEY,), **settings)
    with EmulatorServer(config) as server:
        api = Api(server.url)
        try:
            yield api
        finally:
            api.close()
