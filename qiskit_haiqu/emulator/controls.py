"""Test controls of the emulator (not part of the Haiqu API): a request log, faults, a gate.

Everything here sits in one ASGI middleware, outside FastAPI's routing, so that a fault can
refuse a request before it is handled, drop the connection after it was handled (a lost
reply), or rewrite a reply after it was handled (a garbled or odd reply). The SDK gate
refuses clients whose ``haiqu-sdk-version`` is missing or below a minimum, as the service
does (426). Control paths start with ``/_emulator/`` and are neither logged, faulted nor gated.
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

from qiskit_haiqu.api.protocol import SDK_VERSION_HEADER, parse_version

__all__ = [
    "CONTROL_PREFIX",
    "ControlMiddleware",
    "FaultRule",
    "Faults",
    "RequestLog",
    "SdkGate",
    "SdkGateRule",
]

CONTROL_PREFIX = "/_emulator/"

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

# A status uvicorn has no reason phrase for: it raises before writing a byte, after marking
# the response started, so it closes the connection without an answer.
_UNSENDABLE_STATUS = 999
# What a ``garble`` fault answers by default: a proxy's error page instead of the JSON reply.
_GARBAGE = b"<html><body><h1>502 Bad Gateway</h1></body></html>"
_SDK_HEADER = SDK_VERSION_HEADER.encode()


class FaultRule(BaseModel):
    """One fault-injection rule.

    Attributes:
        method: HTTP method to match (``None`` or ``"*"``: any).
        path: Regular expression searched in the request path (anchor it for exact matches).
        count: How many matching requests it applies to before it is used up.
        action: ``status`` answers ``status`` (with ``Retry-After`` when ``retry_after`` is
            set) without handling; ``drop`` closes the connection without handling or
            answering; ``drop_after`` handles the request, then closes without answering;
            ``delay`` sleeps ``delay`` seconds, then handles normally; ``garble`` handles the
            request, then replaces a 2xx reply's body by ``body`` (default: an HTML error
            page), keeping its status; ``patch`` handles the request, then sets the keys of
            ``patch`` in a 2xx reply that is a JSON object (an odd reply, e.g. a null cost).
        body: The replacement body of ``garble``.
        patch: The keys ``patch`` sets (JSON values, ``null`` included).
    """

    model_config = ConfigDict(extra="forbid")

    method: str | None = None
    path: str = Field(min_length=1, max_length=1000)
    count: int = Field(default=1, ge=1, le=1_000_000)
    action: Literal["status", "drop", "drop_after", "delay", "garble", "patch"] = "status"
    status: int = Field(default=503, ge=200, le=599)
    retry_after: float | None = Field(default=None, ge=0, le=3600)
    delay: float = Field(default=0.0, ge=0, le=60)
    body: str | None = Field(default=None, max_length=100_000)
    patch: dict[str, Any] = Field(default_factory=dict)

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


class SdkGateRule(BaseModel):
    """Body of ``PUT /_emulator/sdk-gate``: the lowest ``haiqu-sdk-version`` accepted."""

    model_config = ConfigDict(extra="forbid")

    min_version: str = Field(min_length=1, max_length=64)

    @field_validator("min_version")
    @classmethod
    def _is_version(cls, value: str) -> str:
        if parse_version(value) is None:
            raise ValueError("min_version must be a version such as '1.7.0'")
        return value.strip()


class SdkGate:
    """The lowest ``haiqu-sdk-version`` the emulator accepts; off (any client) by default."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._minimum: str | None = None

    def set(self, minimum: str | None) -> None:
        """Require ``minimum`` from now on (``None``: accept any client)."""
        with self._lock:
            self._minimum = minimum

    def minimum(self) -> str | None:
        """The version required, or ``None``."""
        with self._lock:
            return self._minimum

    def refusal(self, sent: str | None) -> dict[str, Any] | None:
        """The service's 426 body for a client that sent ``sent``; ``None`` when it passes."""
        minimum = self.minimum()
        if minimum is None or _at_least(parse_version(sent), parse_version(minimum)):
            return None
        shown = repr(sent) if sent is not None else "none"
        message = (
            f"Your Haiqu SDK is outdated (haiqu-sdk-version: {shown}); version {minimum} or "
            "newer is required. Please upgrade the SDK."
        )
        return {"detail": {"error_code": "outdated_sdk", "message": message}}


def _at_least(version: tuple[int, ...] | None, minimum: tuple[int, ...] | None) -> bool:
    if version is None or minimum is None:
        return False
    width = max(len(version), len(minimum))
    return version + (0,) * (width - len(version)) >= minimum + (0,) * (width - len(minimum))


class RequestLog:
    """Method, path, status and ``haiqu-sdk-version`` of every API request, most recent last."""

    def __init__(self, max_entries: int) -> None:
        self._lock = threading.Lock()
        self._entries: deque[dict[str, Any]] = deque(maxlen=max_entries)

    def append(
        self, method: str, path: str, status: int, fault: str | None, sdk_version: str | None
    ) -> None:
        """Record one request."""
        entry = {
            "method": method,
            "path": path,
            "status": status,
            "fault": fault,
            "sdk_version": sdk_version,
        }
        with self._lock:
            self._entries.append(entry)

    def entries(self) -> list[dict[str, Any]]:
        """A copy of the log."""
        with self._lock:
            return list(self._entries)

    def clear(self) -> None:
        """Forget every entry."""
        with self._lock:
            self._entries.clear()


class ControlMiddleware:
    """Logs API requests, caps body sizes, applies the SDK gate and fault rules."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        log: RequestLog,
        faults: Faults | None,
        max_body_bytes: int,
        gate: SdkGate | None = None,
    ) -> None:
        self.app = app
        self._log = log
        self._faults = faults
        self._gate = gate
        self._max_body = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Handle one ASGI call."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        method: str = scope["method"]
        path: str = scope["path"]
        control = path.startswith(CONTROL_PREFIX)
        sdk_version = _header(scope, _SDK_HEADER)
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
            refusal = None if control or self._gate is None else self._gate.refusal(sdk_version)
            if refusal is not None:
                fault = "sdk_gate"
                await _send_json(tracking_send, 426, refusal)
                return
            rule = None if control or self._faults is None else self._faults.take(method, path)
            fault = None if rule is None else rule.action
            if rule is None:
                await self.app(scope, replay, tracking_send)
            else:
                lost = await self._apply(rule, scope, replay, send, tracking_send)
                status = status if lost is None else lost
        finally:
            if not control:
                self._log.append(method, path, status, fault, sdk_version)

    async def _apply(
        self, rule: FaultRule, scope: Scope, replay: Receive, send: Send, tracking_send: Send
    ) -> int | None:
        """Apply a fault to one request.

        Returns:
            For a connection closed without an answer, the status the handler chose (0 when
            it was not run); ``None`` when an answer was sent through ``tracking_send``.
        """
        if rule.action == "status":
            headers = []
            if rule.retry_after is not None:
                headers.append((b"retry-after", _seconds(rule.retry_after).encode()))
            detail = {"detail": f"Injected fault: status {rule.status}."}
            await _send_json(tracking_send, rule.status, detail, headers)
            return None
        if rule.action == "drop":
            await _drop(send)
            return 0
        if rule.action == "delay":
            await asyncio.sleep(rule.delay)
            await self.app(scope, replay, tracking_send)
            return None
        start, content = await _handled(self.app, scope, replay)
        if rule.action == "drop_after":
            await _drop(send)
            return int(start["status"])
        await _send_reply(tracking_send, start, _rewritten(rule, int(start["status"]), content))
        return None


def _header(scope: Scope, name: bytes) -> str | None:
    """A request header's value (latin-1, as HTTP carries it), or ``None``."""
    for key, value in scope.get("headers", ()):
        if key.lower() == name:
            return bytes(value).decode("latin-1")
    return None


async def _handled(app: ASGIApp, scope: Scope, receive: Receive) -> tuple[Message, bytes]:
    """Run the app on a request and keep its reply (start message and body) unsent."""
    start: Message = {"type": "http.response.start", "status": 500, "headers": []}
    chunks: list[bytes] = []

    async def keep(message: Message) -> None:
        nonlocal start
        if message["type"] == "http.response.start":
            start = message
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))

    await app(scope, receive, keep)
    return start, b"".join(chunks)


def _rewritten(rule: FaultRule, status: int, content: bytes) -> bytes:
    """The body a ``garble`` or ``patch`` fault sends instead of a 2xx reply's ``content``."""
    if not 200 <= status < 300:
        return content
    if rule.action == "garble":
        return _GARBAGE if rule.body is None else rule.body.encode()
    try:
        data = orjson.loads(content)
    except orjson.JSONDecodeError:
        return content
    return orjson.dumps({**data, **rule.patch}) if isinstance(data, dict) else content


async def _send_reply(send: Send, start: Message, content: bytes) -> None:
    """Send a reply kept by :func:`_handled`, its ``content-length`` fitted to ``content``."""
    headers = [(k, v) for k, v in start.get("headers", ()) if bytes(k).lower() != b"content-length"]
    headers.append((b"content-length", str(len(content)).encode()))
    await send({"type": "http.response.start", "status": start["status"], "headers": headers})
    await send({"type": "http.response.body", "body": content})


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
