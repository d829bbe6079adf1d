"""The emulator embedded in the current process, for ``HaiquClient.local()``."""

from __future__ import annotations

from typing import Any

from qiskit_haiqu.emulator.server import EmulatorServer
from qiskit_haiqu.emulator.settings import EmulatorSettings

__all__ = ["start_embedded"]


def start_embedded(**settings: Any) -> EmulatorServer:
    """Start an emulator on a free loopback port; the caller stops it."""
    return EmulatorServer(EmulatorSettings(**settings)).start()
