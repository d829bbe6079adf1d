"""Serving the emulator: in a background thread on a free loopback port, or in the foreground."""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections.abc import Iterable
from types import TracebackType
from typing import Any

import uvicorn
from fastapi import FastAPI

from qiskit_haiqu.api.redact import install_log_redaction
from qiskit_haiqu.emulator.app import create_app
from qiskit_haiqu.emulator.controls import DroppedResponseFilter
from qiskit_haiqu.emulator.settings import EmulatorSettings

__all__ = ["EmulatorServer", "serve"]

_DROP_FILTER = DroppedResponseFilter()
_UVICORN_LOGGERS = ("uvicorn", "uvicorn.error", "uvicorn.access")


def _prepare_logging() -> None:
    """Mask ``?HAIQU_API_KEY=...`` in uvicorn's logs (its access log prints request URLs), and
    keep uvicorn from logging an error for each connection a drop fault closes."""
    logger = logging.getLogger("uvicorn.error")
    if _DROP_FILTER not in logger.filters:
        logger.addFilter(_DROP_FILTER)
    install_log_redaction(_UVICORN_LOGGERS)


class EmulatorServer:
    """The emulator on ``127.0.0.1`` and a port the OS picks, served by a daemon thread.

    Example:
        >>> with EmulatorServer(EmulatorSettings(api_keys=["k"])) as server:
        ...     httpx.get(f"{server.url}/version").json()

    Attributes:
        settings: The emulator's settings.
        app: The ASGI application (``app.state.store`` etc. for in-process inspection).
        url: ``http://127.0.0.1:<port>``, known from construction on.
    """

    def __init__(self, settings: EmulatorSettings | None = None, host: str = "127.0.0.1") -> None:
        """Bind the socket (a free port) and build the app; ``start()`` serves it."""
        self.settings = settings or EmulatorSettings()
        self.app: FastAPI = create_app(self.settings)
        # IPPROTO_TCP explicitly: asyncio sets TCP_NODELAY only on sockets that say so, and
        # without it every response waits ~40 ms for a delayed ACK (headers, then body).
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        self._socket.bind((host, 0))
        port = self._socket.getsockname()[1]
        self.url = f"http://{host}:{port}"
        config = uvicorn.Config(
            self.app,
            http="h11",
            lifespan="on",
            log_level="warning",
            access_log=False,
            timeout_keep_alive=30,
        )
        self._server = uvicorn.Server(config)
        self._thread: threading.Thread | None = None

    def start(self, timeout: float = 30.0) -> EmulatorServer:
        """Start serving; return once the server accepts connections.

        Raises:
            RuntimeError: the server did not come up within ``timeout`` seconds.
        """
        if self._thread is not None:
            return self
        _prepare_logging()
        self._thread = threading.Thread(
            target=self._server.run,
            kwargs={"sockets": [self._socket]},
            name="haiqu-emulator",
            daemon=True,
        )
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("The Haiqu emulator did not start.")
            time.sleep(0.005)
        return self

    def stop(self) -> None:
        """Stop serving, wait for the thread, and drop jobs not yet run."""
        self._server.should_exit = True
        if self._thread is not None and self._thread.is_alive():
            self._thread.join(timeout=10)
        self.app.state.runner.shutdown()
        self._socket.close()

    def __enter__(self) -> EmulatorServer:
        """Start the server."""
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Stop the server."""
        self.stop()

    def __repr__(self) -> str:
        return f"EmulatorServer(url={self.url!r})"


def serve(
    host: str = "127.0.0.1",
    port: int = 8000,
    api_keys: Iterable[str] | None = None,
    enable_faults: bool = False,
    **settings: Any,
) -> None:
    """Serve the emulator in the foreground until interrupted (``qiskit-haiqu emulator``).

    Args:
        host: Interface to bind.
        port: Port to bind.
        api_keys: Keys accepted (default: any non-empty key).
        enable_faults: Serve the fault-injection control endpoints.
        **settings: Further :class:`EmulatorSettings` fields.
    """
    config = EmulatorSettings(
        api_keys=tuple(api_keys or ()), enable_faults=enable_faults, **settings
    )
    _prepare_logging()
    logging.getLogger(__name__).warning(
        "Haiqu emulator on http://%s:%s (Ctrl+C to stop)", host, port
    )
    uvicorn.run(create_app(config), host=host, port=port, http="h11", log_level="info")
