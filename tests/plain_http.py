"""The tests' own HTTP requests to emulators: httpx's, with the package's one TLS context.

``httpx.get`` and every new ``httpx.Client`` otherwise build a TLS context of their own, which
loads the whole CA bundle (about 45 ms of CPU each, even for a plain ``http://`` URL). These
behave as httpx's do, with the shared :func:`~qiskit_haiqu.api.transport.verifying_tls_context`.
"""

from __future__ import annotations

from typing import Any

import httpx

from qiskit_haiqu.api.transport import verifying_tls_context


def client(**kwargs: Any) -> httpx.Client:
    """An ``httpx.Client`` with these arguments."""
    return httpx.Client(verify=verifying_tls_context(), **kwargs)


def request(method: str, url: str, **kwargs: Any) -> httpx.Response:
    """One request, as ``httpx.request`` sends it."""
    return httpx.request(method, url, verify=verifying_tls_context(), **kwargs)


def get(url: str, **kwargs: Any) -> httpx.Response:
    """``GET url``, as ``httpx.get`` sends it."""
    return request("GET", url, **kwargs)


def post(url: str, **kwargs: Any) -> httpx.Response:
    """``POST url``, as ``httpx.post`` sends it."""
    return request("POST", url, **kwargs)


def put(url: str, **kwargs: Any) -> httpx.Response:
    """``PUT url``, as ``httpx.put`` sends it."""
    return request("PUT", url, **kwargs)


def delete(url: str, **kwargs: Any) -> httpx.Response:
    """``DELETE url``, as ``httpx.delete`` sends it."""
    return request("DELETE", url, **kwargs)
