"""Which route a run is submitted on, and how to tell that ``POST /run`` is gone.

``"run"`` posts ``POST /run`` (the API reference's route, deprecated by haiqu-sdk 1.7.0);
``"flow"`` posts the same run as a hybrid program to ``POST /flow`` (what the SDK's
``haiqu.run`` posts since 1.7.0); ``"auto"`` posts ``/run`` until the service answers that the
route does not exist, then ``/flow`` for good. The answer that means "no such route" is
FastAPI's own: ``404 {"detail": "Not Found"}`` (or ``405 {"detail": "Method Not Allowed"}``),
which no job was created by, and which a 404 about an unknown id never is (that one names
what was not found).
"""

from __future__ import annotations

import os
from typing import Literal

from qiskit_haiqu.errors import HaiquConfigurationError, HaiquHTTPStatusError

__all__ = [
    "ROUTES",
    "ROUTE_ENV",
    "Route",
    "resolve_route",
    "route_missing",
    "run_route_missing_error",
]

Route = Literal["auto", "run", "flow"]

ROUTES: tuple[Route, ...] = ("auto", "run", "flow")
"""The values of ``HaiquClient(route=...)``."""

ROUTE_ENV = "HAIQU_ROUTE"
"""The environment variable that chooses the route when ``route`` is not given."""

_MISSING = {404: "Not Found", 405: "Method Not Allowed"}


def resolve_route(explicit: str | None = None) -> Route:
    """The route to use: ``explicit``, else ``$HAIQU_ROUTE``, else ``"auto"``.

    Raises:
        HaiquConfigurationError: the chosen value is not one of :data:`ROUTES`.
    """
    value = explicit if explicit is not None else os.environ.get(ROUTE_ENV, "").strip()
    if explicit is None and not value:
        return "auto"
    for route in ROUTES:
        if value == route:
            return route
    source = "route=..." if explicit is not None else f"${ROUTE_ENV}"
    raise HaiquConfigurationError(
        f"{source} must be one of {', '.join(map(repr, ROUTES))}, not {str(value)[:40]!r}: "
        "'auto' submits to POST /run and moves to POST /flow if the service has retired "
        "/run; 'run' and 'flow' use that route only."
    )


def route_missing(error: HaiquHTTPStatusError) -> bool:
    """Whether ``error`` is the service saying it has no such route (so nothing was created)."""
    expected = _MISSING.get(error.status_code)
    detail = error.detail
    return expected is not None and isinstance(detail, str) and detail.strip() == expected


def run_route_missing_error(error: HaiquHTTPStatusError) -> HaiquHTTPStatusError:
    """A new ``error`` saying that ``POST /run`` is gone (and ``route="run"`` allows nothing else)
    and what to use instead."""
    return error.with_message(
        f"POST /run -> {error.status_code}: the service has no POST /run route (haiqu-sdk "
        "1.7.0 deprecated it), and this client was told to use only that route. Submit with "
        "HaiquClient(route='flow') or route='auto' (or set HAIQU_ROUTE=flow); no job was "
        "created."
    )
