"""From a failed exchange to the error the user sees: pure functions, no I/O, no state.

Each function builds one complete :class:`~qiskit_haiqu.errors.HaiquAPIError` whose message
says what happened and what to do next. The API key is redacted from every message and from
the decoded error body (``detail``) before the error exists.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import httpx
import orjson

from qiskit_haiqu.api.protocol import SDK_VERSION, SDK_VERSION_ENV, SDK_VERSION_HEADER
from qiskit_haiqu.api.redact import redact, redact_data
from qiskit_haiqu.api.retry import parse_retry_after
from qiskit_haiqu.errors import (
    AuthenticationError,
    HaiquConnectionError,
    HaiquHTTPStatusError,
    HaiquInvalidResponseError,
    InsufficientCreditsError,
    InvalidRequestError,
    NotFoundError,
    OutdatedClientError,
    RateLimitedError,
    ServerError,
)

__all__ = [
    "DASHBOARD_PRICING",
    "ErrorContext",
    "connection_error",
    "describe_detail",
    "invalid_response_error",
    "response_error",
]

DASHBOARD_PRICING = "https://dashboard.haiqu.ai"


@dataclass(frozen=True)
class ErrorContext:
    """What an error names besides the exchange itself.

    Attributes:
        base_url: The service's root URL (``scheme://host[:port]``).
        sdk_version: The haiqu-sdk protocol version sent (named by a 426).
        api_key: The key to keep out of every message (never shown by ``repr``).
    """

    base_url: str
    sdk_version: str = SDK_VERSION
    api_key: str = field(default="", repr=False)


def response_error(
    method: str,
    path: str,
    response: httpx.Response,
    context: ErrorContext,
    note: str = "",
) -> HaiquHTTPStatusError:
    """The error of a non-2xx ``response`` to ``method path``.

    Args:
        note: Text appended to the message (e.g. how often the request was tried).
    """
    status = response.status_code
    detail = redact_data(_error_body(response), context.api_key)
    text = redact(describe_detail(detail), context.api_key)
    where = f"{method} {path} -> {status}"
    fields: dict[str, Any] = {
        "method": method,
        "url": context.base_url + path,
        "status_code": status,
        "detail": detail,
    }
    if status == 401:
        return AuthenticationError(
            f"{where}: the API key was rejected. Check HAIQU_API_KEY (or api_key=...) "
            f"against your key on the Haiqu dashboard.{note}",
            **fields,
        )
    if status == 402:
        return InsufficientCreditsError(
            f"{where}: not enough credits for this job ({text}). Top up at "
            f"{DASHBOARD_PRICING} or run on a simulator.{note}",
            **fields,
        )
    if status == 404:
        return NotFoundError(f"{where}: not found ({text}). Check the id.{note}", **fields)
    if status == 422:
        return InvalidRequestError(
            f"{where}: the server refused the request: {text}{note}", **fields
        )
    if status == 426:
        said = detail.get("message") if isinstance(detail, dict) else None
        return OutdatedClientError(
            f"{where}: the service refused haiqu-sdk protocol version {context.sdk_version} "
            f"(sent in the {SDK_VERSION_HEADER} header) as outdated. It said: "
            f"{str(said or text).strip()} This qiskit-haiqu speaks the wire format of "
            f"haiqu-sdk {SDK_VERSION}. If you know it works with the newer protocol, send that "
            f"version with HaiquClient(sdk_version=...) or the {SDK_VERSION_ENV} environment "
            f"variable; otherwise upgrade with: pip install --upgrade qiskit-haiqu{note}",
            sdk_version=context.sdk_version,
            **fields,
        )
    if status == 429:
        retry_after = parse_retry_after(response.headers.get("retry-after"))
        return RateLimitedError(
            f"{where}: rate limited (retry after {retry_after} s). Slow down or retry later.{note}",
            retry_after=retry_after,
            **fields,
        )
    if status >= 500:
        return ServerError(
            f"{where}: the Haiqu service failed ({text}). Try again later; if it persists, "
            f"contact Haiqu support.{note}",
            **fields,
        )
    return HaiquHTTPStatusError(f"{where}: {text}{note}", **fields)


def connection_error(
    method: str, path: str, exc: Exception, context: ErrorContext, note: str = ""
) -> HaiquConnectionError:
    """The error of a request to ``method path`` that got no answer (``exc``).

    Args:
        note: Text appended to the message (e.g. how often the request was tried).
    """
    kind = "timed out" if isinstance(exc, httpx.TimeoutException) else "failed"
    detail = redact(f"{type(exc).__name__}: {exc}", context.api_key)
    return HaiquConnectionError(
        f"{method} {path} {kind}: {detail}. Check that {context.base_url} is reachable and "
        "try again; raise the timeout with HaiquClient(timeout=...) for slow networks."
        f"{note}",
        method=method,
        url=context.base_url + path,
    )


def invalid_response_error(
    method: str, path: str, what: str, context: ErrorContext
) -> HaiquInvalidResponseError:
    """The error of a 2xx answer to ``method path`` that is not ``what`` was expected."""
    return HaiquInvalidResponseError(
        f"{method} {path}: the server's answer is not {what}. The server may be newer or "
        "older than this client; upgrade qiskit-haiqu or report it.",
        method=method,
        url=context.base_url + path,
    )


def describe_detail(detail: Any) -> str:
    """A readable form of an error body (FastAPI's 422 list becomes ``loc: msg`` lines)."""
    if isinstance(detail, list):
        parts = []
        for item in detail[:10]:
            if isinstance(item, dict) and "msg" in item:
                loc = " -> ".join(str(p) for p in item.get("loc", []))
                parts.append(f"{loc}: {item['msg']}" if loc else str(item["msg"]))
            else:
                parts.append(str(item))
        return "; ".join(parts)
    if isinstance(detail, dict):
        return str(detail.get("message") or detail)
    return "no detail" if detail in (None, "") else str(detail)


def _error_body(response: httpx.Response) -> Any:
    """The decoded error body: FastAPI's ``detail`` when present, else the body (or its text)."""
    try:
        payload: Any = orjson.loads(response.content) if response.content else None
    except orjson.JSONDecodeError:
        payload = response.text[:500]
    return payload.get("detail", payload) if isinstance(payload, dict) else payload
