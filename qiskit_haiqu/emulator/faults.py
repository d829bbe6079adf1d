"""Test controls of the emulator: a request log and fault injection (an ASGI middleware).

Neither is part of the Haiqu API. The request log records every API request (method, path,
final status) so tests can prove that nothing was uploaded or submitted. Fault rules, which
exist only when the emulator runs with ``enable_faults``, make matching requests fail:

- ``status``: answer that status (with ``Retry-After`` when given) without handling it;
- ``drop``: close the connection without an answer, without handling it;
- ``drop_after``: handle it (e.g. create the job), then close the connection: a lost reply;
- ``delay``: wait ``delay`` seconds, then handle it.
"""

from __future__ import annotations

import asyncio
import re
import threading
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, Field

__all__ = ["CONTROL_PREFIX", "FaultRule", "Faults", "RequestLog", "ControlMiddleware"]

CONTROL_PREFIX = "/_emulator"

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


class FaultRule(BaseModel):
    """One fault: which requests it hits, how many times, and what happens."""

    method: str = "*"
    path: str = ".*"
    count: int = Field(default=1, ge=1)
    action: Literal["status", "drop", "drop_after", "delay"] = "status"
    status: int = Field(default=503, ge=400, le=599)
    retry_after: float | None = None
    delay: float = Field(default=0.0, ge=0, le=30)


@dataclass
class RequestLog:
    """The API requests received, in order."""

    entries: list[dict[str, Any]]
    lock: threading.Lock

    @classmethod
    def empty(cls) -> RequestLog:
        """A new, empty log."""
        return cls([], threading.Lock())

    def add(self, method: str, path: str, status: int) -> None:
        """Record one request."""
        with self.lock:
            self.entries.append({"method": method, "path": path, "status": status})

    def clear(self) -> None:
        """Forget every entry."""
        with self.lock:
            self.entries.clear()

    def list(self) -> list[dict[str, Any]]:
        """A copy of the entries."""
        with self.lock:
            return list(self.entries)


class Faults:
    """The active fault rules."""

    def __init__(self) -> None:
        self._rules: list[tuple[FaultRule, re.Pattern[str], list[int]]] = []
        self._lock = threading.Lock()

    def add(self, rules: list[FaultRule]) -> None:
        """Add rules (checked in order)."""
        with self._lock:
            self._rules.extend((r, re.compile(r.path), [r.count]) for r in rules)

    def clear(self) -> None:
        """Remove every rule."""
        with self._lock:
            self._rules.clear()

    def take(self, method: str, path: str) -> FaultRule | None:
        """The first rule matching the request, spending one of its uses."""
        with self._lock:
            for rule, pattern, left in self._rules:
                if left[0] > 0 and rule.method in ("*", method) and pattern.fullmatch(path):
                    left[0] -= 1
                    return rule
        return None


class ControlMiddleware:
    """Logs API requests and applies fault rules in front of the FastAPI app."""

    def __init__(self, app: ASGIApp, log: RequestLog, faults: Faults | None) -> None:
        self.app = app
        self.log = log
        self.faults = faults

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(CONTROL_PREFIX):
            await self.app(scope, receive, send)
            return
        method, path = scope["method"], scope["path"]
        status = {"code": 0}

        async def logged_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
            await send(message)

        rule = self.faults.take(method, path) if self.faults else None
        try:
            if rule is None:
                await self.app(scope, receive, logged_send)
            elif rule.action == "status":
                await _answer(send, rule)
                status["code"] = rule.status
            elif rule.action == "delay":
                await asyncio.sleep(rule.delay)
                await self.app(scope, receive, logged_send)
            else:
                if rule.action == "drop_after":
                    await self.app(scope, receive, _swallow)
                status["code"] = -1
                await _drop(send)
        finally:
            self.log.add(method, path, status["code"])


async def _swallow(message: Message) -> None:
    """Discard the app's reply (the request was handled; its answer is lost)."""


async def _answer(send: Send, rule: FaultRule) -> None:
    headers = [(b"content-type", b"application/json")]
    if rule.retry_after is not None:
        headers.append((b"retry-after", str(rule.retry_after).encode()))
    body = b'{"detail": "injected fault"}'
    await send({"type": "http.response.start", "status": rule.status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class _Dropped(Exception):
    """Raised after a response start so the server closes the connection mid-reply."""


async def _drop(send: Send) -> None:
    """Start a reply that promises a body, then fail: the server closes the connection."""
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"content-type", b"application/json"), (b"content-length", b"1000")],
        }
    )
    raise _Dropped("connection dropped by fault injection")
