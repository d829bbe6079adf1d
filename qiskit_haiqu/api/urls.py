"""The service's URL and the paths on it: where requests go, and which URLs are refused."""

from __future__ import annotations

import ipaddress
from urllib.parse import quote

import httpx

from qiskit_haiqu.api.redact import redact
from qiskit_haiqu.errors import HaiquConfigurationError, HaiquInputError

__all__ = ["is_loopback", "path_segment", "root_url"]


def is_loopback(host: str) -> bool:
    """Whether ``host`` (a name or an IP address, IPv6 in brackets or not) is this machine."""
    if host in ("localhost", "localhost."):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def root_url(url: str, allow_insecure: bool) -> str:
    """``scheme://host[:port]`` of ``url``: the SDK serves every endpoint at the host root.

    Raises:
        HaiquConfigurationError: ``url`` is not an http(s) URL with a host, or it is plain
            ``http://`` to another machine without ``allow_insecure``.
    """
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, TypeError) as exc:
        raise HaiquConfigurationError(f"Invalid API URL {redact(url)!r}: {exc}") from None
    if parsed.scheme not in ("http", "https") or not parsed.host:
        raise HaiquConfigurationError(
            f"Invalid API URL {redact(url)!r}: use http(s)://host[:port]."
        )
    if parsed.scheme == "http" and not allow_insecure and not is_loopback(parsed.host):
        raise HaiquConfigurationError(
            f"Refusing plain http:// to {parsed.host}: the API key would cross the network "
            "in clear. Use https://, or pass allow_insecure=True if you really mean it."
        )
    port = f":{parsed.port}" if parsed.port else ""
    host = f"[{parsed.host}]" if ":" in parsed.host else parsed.host
    return f"{parsed.scheme}://{host}{port}"


def path_segment(value: str, what: str) -> str:
    """One URL path segment, quoted.

    Raises:
        HaiquInputError: ``value`` is blank, ``.`` or ``..``, which would change the path
            (``GET /jobs/..`` is ``GET /``), or not a string.
    """
    if not isinstance(value, str) or not value.strip() or value in (".", ".."):
        raise HaiquInputError(
            f"{what} {str(value)[:80]!r} is not a valid id: ids are non-empty strings and "
            "never '.' or '..'. Pass the id the service returned (or the device's name)."
        )
    return quote(value, safe="")
