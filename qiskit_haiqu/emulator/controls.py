"""Test controls of the emulator (not part of the Haiqu API): a request log and faults.

Everything here sits in one ASGI middleware, outside FastAPI's routing, so that a fault can
refuse a request before it is handled, or drop the connection after it was handled (a lost
reply). Control paths start with ``/_emulator/`` and are neither logged nor faulted.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import threading
from collections import deque
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any, Literal

import orjson
from pydantic import BaseModel, ConfigDict, Field, field_validator

__all__ = ["CONTROL_PREFIX", "ControlMiddleware", "FaultRule", "Faults", "RequestLog"]

CONTROL_PREFIX = "/_emulator/"

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

# A status uvicorn has no reason phrase for: it raises before writing a byte, after marking
# the response started, so it closes the connection without an answer.
_UNSENDABLE_STATUS = 999


class FaultRule(BaseModel):
    """One fault-injection rule.

    Attributes:
        method: HTTP method to match (``None`` or ``"*"``: any).
        path: Regular expression searched in the request path (anchor it for exact matches).
        count: How many matching requests it applies to before it is used up.
        action: ``status`` answers ``status`` (with ``Retry-After`` when ``retry_after`` is
            set) without handling; ``drop`` closes the connection without handling or
            answering; ``drop_after`` handles the request, then closes without answering;
            ``delay`` sleeps ``delay`` seconds, then handles normally.
    """

    model_config = ConfigDict(extra="forbid")

    method: str | None = None
    path: str = Field(min_length=1, max_length=1000)
    count: int = Field(default=1, ge=1, le=1_000_000)
    action: Literal["status", "drop", "drop_after", "delay"] = "status"
    status: int = Field(default=503, ge=200, le=599)
    retry_after: float | None = Field(default=None, ge=0, le=3600)
    delay: float = Field(default=0.0, ge=0, le=60)

    @field_validator("path")
    @classmethod
    def _compiles(cls, value: str) -> str:
        try:
            re.compile(value)
        except re.error as exc:
            raise ValueError(f"path is not a valid regular expression: {exc}") from None
        return value

    def matches(self, method: str, path: str) -> bool:
        """Whether the rule applies to this request."""
        if self.method not in (None, "*") and self.method.upper() != method.upper():
            return False
        return re.search(self.path, path) is not None


class Faults:
    """The active fault rules, each used up after ``count`` matches."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._rules: list[FaultRule] = []

    def add(self, rules: list[FaultRule]) -> list[FaultRule]:
        """Append rules; return all active rules."""
        with self._lock:
            self._rules.extend(rule.model_copy() for rule in rules)
            return list(self._rules)

    def active(self) -> list[FaultRule]:
        """The active rules with their remaining counts."""
        with self._lock:
            return [rule.model_copy() for rule in self._rules]

    def clear(self) -> None:
        """Remove every rule."""
        with self._lock:
            self._rules.clear()

    def take(self, method: str, path: str) -> FaultRule | None:
        """The first rule matching the request, counted as used once."""
        with self._lock:
            for index, rule in enumerate(self._rules):
                if rule.matches(method, path):
                    rule.count -= 1
                    if rule.count <= 0:
                        del self._rules[index]
                    return rule
        return None


class RequestLog:
    """The method, path and status of every API request received, most recent last."""

    def __init__(self, max_entries: int) -> None:
        self._lock = threading.Lock()
        self._entries: deque[dict[str, Any]] = deque(maxlen=max_entries)

    def append(self, method: str, path: str, status: int, fault: str | None) -> None:
        """Record one request."""
        with self._lock:
            self._entries.append({"method": method, "path": path, "status": status, "fault": fault})

    def entries(self) -> list[dict[str, Any]]:
        """A copy of the log."""
        with self._lock:
            return list(self._entries)

    def clear(self) -> None:
        """Forget every entry."""
        with self._lock:
            self._entries.clear()


class ControlMiddleware:
    """Logs API requests, caps body sizes and applies fault rules."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        log: RequestLog,
        faults: Faults | None,
        max_body_bytes: int,
    ) -> None:
        self.app = app
        self._log = log
        self._faults = faults
        self._max_body = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Handle one ASGI call."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        method: str = scope["method"]
        path: str = scope["path"]
        control = path.startswith(CONTROL_PREFIX)
        status = 0
        fault: str | None = None

        async def tracking_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            body = await _read_body(receive, self._max_body)
            if body is None:
                await _send_json(tracking_send, 413, {"detail": "Request body too large."})
                return
            replay = _replaying(body, receive)
            rule = None if control or self._faults is None else self._faults.take(method, path)
            fault = None if rule is None else rule.action
            if rule is None:
                await self.app(scope, replay, tracking_send)
            elif rule.action == "status":
                headers = []
                if rule.retry_after is not None:
                    headers.append((b"retry-after", _seconds(rule.retry_after).encode()))
                detail = {"detail": f"Injected fault: status {rule.status}."}
                await _send_json(tracking_send, rule.status, detail, headers)
            elif rule.action == "delay":
                await asyncio.sleep(rule.delay)
                await self.app(scope, replay, tracking_send)
            elif rule.action == "drop":
                await _drop(send)
            else:

                async def swallow(message: Message) -> None:
                    nonlocal status
                    if message["type"] == "http.response.start":
                        status = int(message["status"])

                await self.app(scope, replay, swallow)
                await _drop(send)
        finally:
            if not control:
                self._log.append(method, path, status, fault)


def _seconds(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))


async def _read_body(receive: Receive, limit: int) -> bytes | None:
    """The whole request body, or ``None`` when it is larger than ``limit`` bytes."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def _replaying(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


async def _send_json(
    send: Send, status: int, content: Any, headers: list[tuple[bytes, bytes]] | None = None
) -> None:
    body = orjson.dumps(content)
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                *(headers or []),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


async def _drop(send: Send) -> None:
    """Close the connection without sending a byte (uvicorn's h11 protocol)."""
    with contextlib.suppress(Exception):  # the failure to send is the point
        await send({"type": "http.response.start", "status": _UNSENDABLE_STATUS, "headers": []})


class DroppedResponseFilter(logging.Filter):
    """Hides uvicorn's complaint about the responses a drop fault leaves unfinished."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Keep every record but the one about a response a fault dropped."""
        return "without completing response" not in record.getMessage()
