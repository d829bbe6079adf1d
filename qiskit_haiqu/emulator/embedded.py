"""The emulator embedded in the current process, for ``url="local"`` and ``HaiquClient.local()``.

One shared emulator serves every client with ``url="local"`` that asks for no settings of its
own, so jobs created through one client are found by the others. It starts on first use and
stops at interpreter exit. A client that asks for settings gets a private emulator, which it
stops when it closes.
"""

from __future__ import annotations

import atexit
import os
import threading
from collections.abc import Mapping
from typing import Any

from qiskit_haiqu.emulator.server import EmulatorServer
from qiskit_haiqu.emulator.settings import EmulatorSettings

__all__ = ["local_server", "shared_emulator", "start_embedded"]

_lock = threading.Lock()
_shared: EmulatorServer | None = None
_shared_pid = 0


def start_embedded(**settings: Any) -> EmulatorServer:
    """Start an emulator on a free loopback port and return it; the caller calls ``stop()``.

    Args:
        **settings: :class:`EmulatorSettings` fields (default: any key accepted, no faults).
    """
    return EmulatorServer(EmulatorSettings(**settings)).start()


def shared_emulator() -> EmulatorServer:
    """The process's shared emulator (default settings), started on the first call.

    Safe to call from several threads: one emulator is started. It is stopped at interpreter
    exit; its users never stop it. A child process made by ``fork`` starts its own.
    """
    global _shared, _shared_pid
    with _lock:
        if _shared is None or _shared_pid != os.getpid():
            _shared = start_embedded()
            _shared_pid = os.getpid()
            atexit.register(_stop_shared)
        return _shared


def local_server(settings: Mapping[str, Any] | None = None) -> EmulatorServer:
    """The server for ``url="local"``: the shared one without ``settings``, else a new one.

    A new one (``settings`` given, even empty) is stopped by its caller.
    """
    if settings is None:
        return shared_emulator()
    return start_embedded(**settings)


def _stop_shared() -> None:
    """Stop the shared emulator of this process (registered with ``atexit``)."""
    global _shared
    with _lock:
        server, _shared = _shared, None
        owner = _shared_pid
    if server is not None and owner == os.getpid():
        server.stop()
