"""Where ``url="local"`` finds its server: a registry the emulator package fills.

The api layer knows nothing of the emulator: the package registers a factory
(:func:`register_local_server`) that imports the emulator only when it is first called, so
importing qiskit-haiqu never imports FastAPI or uvicorn.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from typing import Any, Protocol

from qiskit_haiqu.errors import HaiquConfigurationError

__all__ = [
    "LocalServer",
    "LocalServerFactory",
    "private_local_server",
    "register_local_server",
    "shared_local_server",
]


class LocalServer(Protocol):
    """A server of the Haiqu API in this process."""

    @property
    def url(self) -> str:
        """``http://127.0.0.1:<port>``."""
        ...

    def stop(self) -> None:
        """Stop serving."""
        ...


LocalServerFactory = Callable[[Mapping[str, Any] | None], LocalServer]
"""``factory(settings)``: with ``None``, the process's shared server, started on first use and
stopped at interpreter exit (its users never stop it); with settings, a new server with them,
which its caller stops."""

_lock = threading.Lock()
_factory: LocalServerFactory | None = None


def register_local_server(factory: LocalServerFactory) -> None:
    """Make ``factory`` the source of servers for ``url="local"`` (the last one registered wins)."""
    global _factory
    with _lock:
        _factory = factory


def shared_local_server() -> LocalServer:
    """The process's shared local server (started on first use; do not stop it).

    Raises:
        HaiquConfigurationError: no factory was registered.
    """
    return _registered()(None)


def private_local_server(settings: Mapping[str, Any]) -> LocalServer:
    """A new local server with ``settings``; the caller stops it.

    Raises:
        HaiquConfigurationError: no factory was registered.
    """
    return _registered()(dict(settings))


def _registered() -> LocalServerFactory:
    with _lock:
        factory = _factory
    if factory is None:
        raise HaiquConfigurationError(
            "url='local' needs the embedded emulator, and none is registered: import "
            "qiskit_haiqu (which registers it) and install the emulator extra: "
            'pip install "qiskit-haiqu[emulator]".'
        )
    return factory
