"""Estimator precision to shots: ``ceil(1 / precision**2)`` without float drift."""

from __future__ import annotations

import math
from numbers import Real

from qiskit_haiqu.errors import HaiquInputError

__all__ = ["MAX_SHOTS", "shots_for_precision"]

MAX_SHOTS = 10**8
"""More shots than this for one pub is taken for a mistake in the precision."""

_SNAP = 1e-9


def shots_for_precision(precision: float) -> int:
    """Shots that give a standard error of at most ``precision`` for a single Pauli.

    ``ceil(1 / precision**2)``, snapped to the nearest integer when float rounding alone
    moved it (so 0.01 gives 10000, not 10001, and ``1 / sqrt(1000)`` gives 1000).

    Raises:
        TypeError: ``precision`` is not a real number.
        ValueError: ``precision`` is not finite and strictly positive, or asks for more
            than :data:`MAX_SHOTS` shots.
    """
    if isinstance(precision, bool) or not isinstance(precision, Real):
        raise TypeError(f"precision must be a real number, not {type(precision).__name__}.")
    value = float(precision)
    if not math.isfinite(value) or value <= 0:
        raise HaiquInputError(
            f"precision must be strictly greater than 0 and finite (got {precision}); the "
            "Haiqu service is shot-based and cannot return exact values."
        )
    exact = 1.0 / (value * value)
    nearest = round(exact)
    shots = nearest if abs(exact - nearest) <= _SNAP * exact else math.ceil(exact)
    if shots > MAX_SHOTS:
        raise HaiquInputError(
            f"precision {precision} needs {shots} shots per pub, more than the {MAX_SHOTS} "
            "this client allows; ask for a larger precision."
        )
    return max(1, int(shots))
