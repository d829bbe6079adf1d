"""The emulator embedded in the current process, for ``HaiquClient.local()``."""

from __future__ import annotations

from typing import Any

from qiskit_haiqu.emulator.server import EmulatorServer
from qiskit_haiqu.emulator.settings import EmulatorSettings

__all__ = ["start_embedded"]


def start_embedded(**settings: Any) -> EmulatorServer:
    """Start an emulator on a free loopback port and return it; the caller calls ``stop()``.

    Args:
        **settings: :class:`EmulatorSettings` fields (default: any key accepted, no faults).
    """
    return EmulatorServer(EmulatorSettings(**settings)).start()
