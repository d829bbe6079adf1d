"""Sending requests to the service: retries with back-off, ``Retry-After`` and a time budget.

Idempotent requests are retried on the policy's statuses (429/502/503/504) and on connection
failures. A non-idempotent one (a creation) is retried only when the service cannot have acted
on it (no connection was made, or a 429/503 refusal); any other failure of it raises
:class:`Ambiguous`, for :mod:`~qiskit_haiqu.api.creation` to resolve. Every failure is mapped
to its error by :mod:`~qiskit_haiqu.api.error_mapping`; the error of a request given up on says
how often it was tried.
"""

from __future__ import annotations

import logging
import os
import ssl
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache, partial
from typing import Any, Literal

import httpx
import orjson

from qiskit_haiqu._version import __version__
from qiskit_haiqu.api.error_mapping import ErrorContext, connection_error, response_error
from qiskit_haiqu.api.protocol import SDK_VERSION_HEADER
from qiskit_haiqu.api.retry import RetryPolicy, parse_retry_after
from qiskit_haiqu.errors import HaiquAPIError

__all__ = [
    "AMBIGUOUS_STATUSES",
    "DEFAULT_TIMEOUT",
    "Ambiguous",
    "Transport",
    "json_or_none",
    "read_body",
    "verifying_tls_context",
]

logger = logging.getLogger("qiskit_haiqu")

DEFAULT_TIMEOUT = httpx.Timeout(60.0, connect=10.0)
AMBIGUOUS_STATUSES = frozenset({502, 504})
"""Statuses after which a creation may or may not have been acted on."""


class Ambiguous(Exception):
    """A POST whose fate is unknown: it may or may not have created something."""

    def __init__(self, error: HaiquAPIError) -> None:
        super().__init__(str(error))
        self.error = error


@dataclass(frozen=True)
class _Failure:
    """One attempt that got no usable answer.

    Attributes:
        error: Builds the attempt's error, with a note appended to its message.
        retryable: Whether the policy retries it at all.
        unsafe_to_repeat: Whether a non-idempotent request may have been acted on.
        retry_after: The seconds the service asked to wait, if it said.
    """

    error: Callable[[str], HaiquAPIError]
    retryable: bool
    unsafe_to_repeat: bool
    retry_after: float | None = None


def verifying_tls_context() -> ssl.SSLContext:
    """The process's certificate-verifying TLS context, built once and shared by every client.

    ``httpx.Client`` otherwise builds its own for each client, loading the whole CA bundle
    (about 45 ms of CPU, whatever the URL's scheme). A context is safe to share between
    clients and threads. It is httpx's own default context, so ``SSL_CERT_FILE`` and
    ``SSL_CERT_DIR`` still choose the CA certificates (one context per setting seen).
    """
    return _tls_context(os.environ.get("SSL_CERT_FILE"), os.environ.get("SSL_CERT_DIR"))


@cache
def _tls_context(cert_file: str | None, cert_dir: str | None) -> ssl.SSLContext:
    """httpx's default context, built while these CA settings are in the environment."""
    del cert_file, cert_dir  # the cache key: httpx reads them from the environment
    return httpx.create_ssl_context()


class Transport:
    """Sends requests to one service with its headers and authentication, retrying per a policy.

    Safe to share between threads. Its ``repr`` never shows the API key.
    """

    def __init__(
        self,
        base_url: str,
        api_key: str,
        *,
        auth: Literal["header", "query"],
        sdk_version: str,
        retry: RetryPolicy,
        timeout: float | httpx.Timeout | None = None,
        http_client: httpx.Client | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        """Set up sending to ``base_url`` (``scheme://host[:port]``).

        Args:
            base_url: The service's root URL; request paths are appended to it.
            api_key: The key sent on every request (header or query, per ``auth``).
            auth: ``"header"`` (``authorization``) or ``"query"`` (``HAIQU_API_KEY``).
            sdk_version: Sent in the ``haiqu-sdk-version`` header.
            retry: How failed requests are retried.
            timeout: The HTTP timeout of a client made here (default: connect 10 s, read 60 s).
            http_client: An ``httpx.Client`` to send through (not closed by :meth:`close`).
            transport: An ``httpx`` transport for the client made here.
        """
        self.base_url = base_url
        self.retry = retry
        self.context = ErrorContext(base_url=base_url, sdk_version=sdk_version, api_key=api_key)
        self._key = api_key
        self._auth = auth
        self._owns_http = http_client is None
        self.http = http_client or httpx.Client(
            verify=verifying_tls_context(),
            timeout=timeout if timeout is not None else DEFAULT_TIMEOUT,
            transport=transport,
            limits=httpx.Limits(max_connections=32, max_keepalive_connections=16),
            follow_redirects=False,
        )
        self._headers = {
            "user-agent": f"qiskit-haiqu/{__version__} httpx/{httpx.__version__}",
            "content-type": "application/json",
            "accept": "application/json",
            SDK_VERSION_HEADER: sdk_version,
        }
        if auth == "header":
            self._headers["authorization"] = api_key

    def close(self) -> None:
        """Close the connections of the HTTP client made here."""
        if self._owns_http:
            self.http.close()

    def __repr__(self) -> str:
        return f"Transport(base_url={self.base_url!r}, auth={self._auth!r})"

    def send(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        body: bytes | None = None,
        idempotent: bool,
    ) -> httpx.Response:
        """Send one request, retrying per the policy; return its 2xx response.

        Raises:
            HaiquAPIError: the matching error (of the last attempt when retries ran out).
            Ambiguous: a non-idempotent request failed in a way that it may have been
                acted on.
        """
        query = dict(params or {})
        if self._auth == "query":
            query["HAIQU_API_KEY"] = self._key
        waited = 0.0
        attempt = 0
        while True:
            outcome = self._attempt(method, path, query, body)
            if isinstance(outcome, httpx.Response):
                return outcome
            error = outcome.error("")
            if not outcome.retryable:
                raise error
            if not idempotent and outcome.unsafe_to_repeat:
                raise Ambiguous(error)
            attempt += 1
            delay = self.retry.delay(attempt - 1, outcome.retry_after)
            if attempt >= self.retry.max_attempts or waited + delay > self.retry.max_total_wait:
                raise outcome.error(
                    f" (gave up after {attempt} attempts and {waited:.1f} s of back-off)"
                )
            logger.info(
                "%s %s failed (%s); retrying in %.2f s (attempt %d of %d)",
                method,
                path,
                type(error).__name__,
                delay,
                attempt + 1,
                self.retry.max_attempts,
            )
            self.retry.sleep(delay)
            waited += delay

    def _attempt(
        self, method: str, path: str, query: dict[str, Any], body: bytes | None
    ) -> httpx.Response | _Failure:
        """One request: its 2xx response, or what went wrong."""
        context = self.context
        start = time.perf_counter()
        request = self.http.build_request(
            method, self.base_url + path, params=query or None, content=body, headers=self._headers
        )
        try:
            response = self.http.send(request, stream=True)
            try:
                read_body(response)
            finally:
                response.close()
        except httpx.ConnectError as exc:
            return _Failure(
                partial(connection_error, method, path, exc, context),
                retryable=True,
                unsafe_to_repeat=False,
            )
        except (httpx.TimeoutException, httpx.TransportError) as exc:
            return _Failure(
                partial(connection_error, method, path, exc, context),
                retryable=True,
                unsafe_to_repeat=not isinstance(exc, httpx.ConnectTimeout),
            )
        elapsed = (time.perf_counter() - start) * 1000
        logger.debug("%s %s -> %d (%.1f ms)", method, path, response.status_code, elapsed)
        if response.is_success:
            return response
        status = response.status_code
        return _Failure(
            partial(response_error, method, path, response, context),
            retryable=status in self.retry.statuses,
            unsafe_to_repeat=status in AMBIGUOUS_STATUSES,
            retry_after=parse_retry_after(response.headers.get("retry-after")),
        )


_BUFFERED = 1 << 20
"""Bodies from this size on are read into one buffer of their announced length."""


def read_body(response: httpx.Response) -> None:
    """Read a streamed response's body, a big one straight into one buffer.

    ``Response.read()`` keeps every chunk (a thousand for 64 MB) and joins them: twice the
    body at its peak. A body of known length, not content-encoded, is copied chunk by chunk
    into a ``bytearray`` of that length instead, which becomes ``response.content`` (a
    ``bytearray`` then; every reader here takes one). Anything else is read as usual.
    """
    size = _plain_length(response)
    if size is None or size < _BUFFERED or response.is_stream_consumed:
        response.read()
        return
    buffer = bytearray(size)
    view = memoryview(buffer)
    filled = 0
    for chunk in response.iter_raw():
        end = filled + len(chunk)
        if end > size:  # h11 never lets more than announced through
            raise httpx.RemoteProtocolError("the body is longer than its Content-Length")
        view[filled:end] = chunk
        filled = end
    view.release()
    del buffer[filled:]  # less than announced: h11 raises first, but never keep padding
    # httpx has no public way to give a streamed response its body; this is what read() sets.
    response._content = buffer  # type: ignore[assignment]


def _plain_length(response: httpx.Response) -> int | None:
    """The body's announced length when it is sent as is (no content or transfer coding)."""
    length = response.headers.get("content-length", "")
    coding = response.headers.get("content-encoding", "identity").strip().lower()
    if not length.isdigit() or coding not in ("", "identity"):
        return None
    return int(length)


def json_or_none(content: bytes) -> Any:
    """The decoded JSON of a body, or ``None`` when it is not JSON."""
    try:
        return orjson.loads(content)
    except orjson.JSONDecodeError:
        return None
