"""Serving the emulator: in a background thread on a free loopback port, or in the foreground."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterable, Iterator
from types import TracebackType
from typing import Any

import uvicorn

from qiskit_haiqu.emulator.app import create_app
from qiskit_haiqu.emulator.settings import EmulatorSettings

__all__ = ["EmulatorServer", "serve"]


class _ThreadServer(uvicorn.Server):
    """A uvicorn server that can run outside the main thread (no signal handlers)."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


class EmulatorServer:
    """The emulator on ``127.0.0.1`` and a port the OS picks, in a daemon thread.

    Example:
        >>> with EmulatorServer() as server:
        ...     client = HaiquClient(url=server.url, api_key="any")
    """

    def __init__(self, settings: EmulatorSettings | None = None, host: str = "127.0.0.1") -> None:
        """Prepare a server (``start()`` runs it)."""
        self.settings = settings or EmulatorSettings()
        self.app = create_app(self.settings)
        config = uvicorn.Config(
            self.app, host=host, port=0, log_level="critical", lifespan="off",
            timeout_keep_alive=30,
        )
        self._server = _ThreadServer(config)
        self._thread: threading.Thread | None = None
        self.url = ""

    def start(self, timeout: float = 30.0) -> EmulatorServer:
        """Start serving; returns once the server accepts connections."""
        self._thread = threading.Thread(target=self._server.run, name="haiqu-emulator", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the Haiqu emulator did not start")
            time.sleep(0.01)
        host, port = self._server.servers[0].sockets[0].getsockname()[:2]
        self.url = f"http://{host}:{port}"
        return self

    def stop(self) -> None:
        """Stop serving and wait for the thread to end."""
        self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)
        self.app.app.state.runner.shutdown()

    def __enter__(self) -> EmulatorServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def serve(
    host: str = "127.0.0.1",
    port: int = 8000,
    api_keys: Iterable[str] | None = None,
    enable_faults: bool = False,
    **settings: Any,
) -> None:
    """Serve the emulator in the foreground until interrupted (``qiskit-haiqu emulator``)."""
    config = EmulatorSettings(
        api_keys=frozenset(api_keys or ()), enable_faults=enable_faults, **settings
    )
    print(f"Haiqu emulator on http://{host}:{port} (Ctrl+C to stop)")  # noqa: T201
    uvicorn.run(create_app(config), host=host, port=port, log_level="warning")
