"""What the client says about itself on the wire: the SDK protocol version it speaks.

The official haiqu-sdk sends ``haiqu-sdk-version: <its version>`` on every request, and the
service answers ``426 {"detail": {"error_code": "outdated_sdk", ...}}`` to clients it judges
too old. qiskit-haiqu implements the wire format of :data:`SDK_VERSION` and says so in the
same header. Shared by the client and the emulator (which can gate on it).
"""

from __future__ import annotations

import os
import re

from qiskit_haiqu.errors import HaiquConfigurationError

__all__ = [
    "SDK_VERSION",
    "SDK_VERSION_ENV",
    "SDK_VERSION_HEADER",
    "parse_version",
    "resolve_sdk_version",
]

SDK_VERSION = "1.7.0"
"""The haiqu-sdk version whose wire format this client implements (the only place it is set)."""

SDK_VERSION_HEADER = "haiqu-sdk-version"
"""The request header that carries the protocol version."""

SDK_VERSION_ENV = "HAIQU_SDK_VERSION"
"""The environment variable that overrides :data:`SDK_VERSION`."""

_VERSION = re.compile(r"^\d+(\.\d+)*([.+-]?[A-Za-z0-9.+-]*)?$", re.ASCII)
_NUMBER = re.compile(r"\d+", re.ASCII)


def parse_version(text: str | None) -> tuple[int, ...] | None:
    """The numeric release of a version string (``"1.7.0rc1"`` -> ``(1, 7, 0)``), or ``None``.

    Only the leading dotted numbers count, so pre-release tags compare equal to the release.
    """
    if not text or not _VERSION.match(text.strip()):
        return None
    release = []
    for part in text.strip().split("."):
        number = _NUMBER.match(part)
        if number is None:
            break
        release.append(int(number.group()))
        if number.end() != len(part):
            break
    return tuple(release)


def resolve_sdk_version(explicit: str | None = None) -> str:
    """The protocol version to send: ``explicit``, else ``$HAIQU_SDK_VERSION``, else the default.

    Raises:
        HaiquConfigurationError: the chosen value is not a version such as ``1.7.0``.
    """
    value = explicit if explicit is not None else os.environ.get(SDK_VERSION_ENV)
    if value is None or (explicit is None and not value.strip()):
        return SDK_VERSION
    cleaned = value.strip()
    if parse_version(cleaned) is None or len(cleaned) > 64:
        source = "sdk_version=..." if explicit is not None else f"${SDK_VERSION_ENV}"
        raise HaiquConfigurationError(
            f"{source} must be a version such as {SDK_VERSION!r}, not {cleaned[:64]!r}. It is "
            f"the haiqu-sdk protocol version sent in the {SDK_VERSION_HEADER} header; leave it "
            f"unset to send {SDK_VERSION}."
        )
    return cleaned
