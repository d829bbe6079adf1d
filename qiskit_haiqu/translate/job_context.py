"""What a job needs to be decoded again later, stored in its description.

A reattached job (``HaiquSampler.job(id)`` in another process) has what the service echoes
(the circuits' QPY, the parameter rows, the observables, the shots) but not the pub shapes;
this packs them into a short marker that rides in the job's ``description``:
``[qhc:<base64 of raw-deflated JSON>]``, without padding.

Only what the service cannot give back is stored, in a compact form whose size per pub does
not grow with the pub (in the usual case):

- sampler: ``["s", [shape, ...]]``, one shape per pub;
- estimator: ``["e", [[obs_shape, row_shape, precision], ...]]``, one entry per pub; the
  observable index (which distinct observable each cell of the observables array is) is left
  out when it is ``0, 1, 2, ...`` (all observables distinct), and the number of circuit
  entries is left out when the plan of :func:`~qiskit_haiqu.translate.estimator_plan.plan_pub`
  gives it; otherwise they follow in a fourth item, ``{"obs": [...], "entries": n}``.

:func:`read_context` gives the same dictionaries the primitives wrote, and also reads the
markers of earlier versions (``[qhc:<base64 of zlib'd JSON>]``, the full dictionary), so
their jobs reattach.
"""

from __future__ import annotations

import base64
import json
import math
import re
import zlib
from typing import Any

import numpy as np

from qiskit_haiqu.translate.estimator_plan import plan_pub

__all__ = ["fit_description", "read_context", "write_context"]

_MARKER = re.compile(r"\[qhc:([A-Za-z0-9+/=]+)\]")
_KINDS = {"sampler": "s", "estimator": "e"}
_ESTIMATOR_KEYS = frozenset({"obs", "obs_shape", "row_shape", "precision", "entries"})


def write_context(context: dict[str, Any]) -> str:
    """The marker for ``context``, whole (see :func:`fit_description` for where it fits)."""
    packed = _compact(context)
    payload = json.dumps(context if packed is None else packed, separators=(",", ":"))
    deflate = zlib.compressobj(9, zlib.DEFLATED, -15)
    data = deflate.compress(payload.encode()) + deflate.flush()
    return f"[qhc:{base64.b64encode(data).decode('ascii').rstrip('=')}]"


def read_context(description: str | None) -> dict[str, Any] | None:
    """The context stored in a job description, or ``None`` when it has none.

    The last marker that reads is taken: the primitives append theirs after the user's text.
    """
    for found in reversed(list(_MARKER.finditer(description or ""))):
        try:
            value = _decode(found.group(1))
        except (ValueError, TypeError, KeyError, IndexError, AttributeError, zlib.error):
            continue
        if isinstance(value, dict):
            return value
    return None


def fit_description(text: str, marker: str, room: int) -> tuple[str, int] | None:
    """A description of at most ``room`` characters with ``text`` and ``marker``.

    The marker is never cut: ``text`` is shortened from its end when both do not fit.

    Returns:
        The description and how many characters of ``text`` were cut, or ``None`` when
        the marker alone is longer than ``room``.
    """
    if len(marker) > room:
        return None
    kept = text[: max(room - len(marker) - 1, 0)]
    return f"{kept} {marker}".strip(), len(text) - len(kept)


def _decode(encoded: str) -> Any:
    """The context of one marker's base64 text, in either format."""
    data = base64.b64decode(encoded + "=" * (-len(encoded) % 4), validate=True)
    try:  # earlier versions: a zlib stream (header and checksum) of the dictionary itself
        return json.loads(zlib.decompress(data))
    except zlib.error:
        return _expand(json.loads(zlib.decompress(data, -15)))


def _compact(context: dict[str, Any]) -> list[Any] | None:
    """The compact form of a primitive's context (``None``: not one this module knows)."""
    kind = _KINDS.get(context.get("kind", ""))
    if kind == "s" and set(context) == {"kind", "shapes"}:
        return [kind, [list(shape) for shape in context["shapes"]]]
    if kind == "e" and set(context) == {"kind", "pubs"}:
        pubs = context["pubs"]
        if all(isinstance(pub, dict) and set(pub) == _ESTIMATOR_KEYS for pub in pubs):
            return [kind, [_compact_pub(pub) for pub in pubs]]
    return None


def _compact_pub(pub: dict[str, Any]) -> list[Any]:
    """One estimator pub: its shapes and precision, plus what cannot be derived from them."""
    obs_shape, row_shape = list(pub["obs_shape"]), list(pub["row_shape"])
    item: list[Any] = [obs_shape, row_shape, float(pub["precision"])]
    extra: dict[str, Any] = {}
    if list(pub["obs"]) != list(range(math.prod(obs_shape))):
        extra["obs"] = list(pub["obs"])
    if int(pub["entries"]) != _entries(pub["obs"], obs_shape, row_shape):
        extra["entries"] = int(pub["entries"])
    return [*item, extra] if extra else item


def _expand(value: Any) -> Any:
    """A compact context back in the form the primitives wrote (other values as they are)."""
    if not isinstance(value, list):
        return value
    kind, items = value
    if kind == "s":
        return {"kind": "sampler", "shapes": [list(shape) for shape in items]}
    if kind != "e":
        raise ValueError(f"unknown context kind {kind!r}")
    pubs = []
    for obs_shape, row_shape, precision, *rest in items:
        extra = rest[0] if rest else {}
        obs = [int(i) for i in extra.get("obs", range(math.prod(obs_shape)))]
        entries = extra["entries"] if "entries" in extra else _entries(obs, obs_shape, row_shape)
        if entries is None:
            raise ValueError("the stored shapes do not broadcast")
        pubs.append(
            {
                "obs": obs,
                "obs_shape": obs_shape,
                "row_shape": row_shape,
                "precision": precision,
                "entries": entries,
            }
        )
    return {"kind": "estimator", "pubs": pubs}


def _entries(obs: list[int], obs_shape: list[int], row_shape: list[int]) -> int | None:
    """How many circuit entries the plan of this pub has (``None``: the shapes do not fit)."""
    try:
        index = np.asarray(obs, dtype=np.intp).reshape(obs_shape)
        return len(plan_pub(index, tuple(row_shape)).entries)
    except ValueError:
        return None
