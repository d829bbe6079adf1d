"""Checks run inside ``run()`` before anything is uploaded or billed.

Qiskit's own pub containers (``SamplerPub.coerce``, ``EstimatorPub.coerce``) do the first
round and give Qiskit's exception types and texts; these checks add what the service would
only refuse later (or what would silently give wrong data).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, TypeVar

import numpy as np
from qiskit.circuit import QuantumCircuit
from qiskit.primitives import BitArray, DataBin
from qiskit.primitives.containers.bindings_array import BindingsArray
from qiskit.primitives.containers.estimator_pub import EstimatorPub
from qiskit.primitives.containers.sampler_pub import SamplerPub

from qiskit_haiqu.errors import HaiquInputError
from qiskit_haiqu.primitives.user_warnings import warn_user

__all__ = [
    "RESERVED_REGISTER_NAMES",
    "check_registers",
    "coerce_pubs",
    "parameter_rows",
    "warn_if_no_registers",
]

PubT = TypeVar("PubT")

RESERVED_REGISTER_NAMES = frozenset(DataBin._RESTRICTED_NAMES)  # noqa: SLF001
"""Names a classical register cannot have, because ``DataBin`` uses them itself."""

_PLACEHOLDER = BitArray(np.zeros((1, 1), dtype=np.uint8), 1)


_PUB_FORMS = {
    "Sampler": ("(circuit, parameter_values, shots)", "(circuit, values)", "circuit, values"),
    "Estimator": (
        "(circuit, observables, parameter_values, precision)",
        "(circuit, observable, values)",
        "circuit, observable, values",
    ),
}
"""Per primitive: a pub's full form, the pub of a V1 call, and that V1 call's arguments."""


def _v1_style(kind: str) -> str:
    """Why V1 primitives' calls fail on a V2 primitive, and the pub form to write instead."""
    full, pub, v1 = _PUB_FORMS[kind]
    name = kind.lower()
    return (
        f"{name}.run() takes a list of pubs, one tuple {full} per circuit (the trailing items "
        f"are optional), not the circuits and their inputs as separate arguments as the V1 "
        f"{kind} took them: write {name}.run([{pub}]) instead of {name}.run({v1})."
    )


def _is_pub(item: Any) -> bool:
    """Whether ``item`` can start a pub list entry: a circuit, a pub, or a tuple of a circuit."""
    if isinstance(item, QuantumCircuit | SamplerPub | EstimatorPub):
        return True
    return isinstance(item, tuple | list) and bool(item) and isinstance(item[0], QuantumCircuit)


def _shape_hint(pubs: list[Any], kind: str) -> str | None:
    """What to write instead of a V1-style flat list (a circuit followed by its values or
    observables) or an estimator pub that is a bare circuit; ``None`` when neither."""
    for index, pub in enumerate(pubs):
        if not isinstance(pub, QuantumCircuit):
            continue
        following = pubs[index + 1] if index + 1 < len(pubs) else None
        if following is not None and not _is_pub(following):
            return (
                f"Pub {index} is a circuit followed by a {type(following).__name__}, which is "
                f"no pub. {_v1_style(kind)}"
            )
        if kind == "Estimator":
            return (
                f"Pub {index} is a bare circuit: an Estimator pub pairs a circuit with its "
                "observables. Write estimator.run([(circuit, observables)]), or "
                "estimator.run([(circuit, observables, parameter_values)])."
            )
    return None


def coerce_pubs(
    pubs: Iterable[Any],
    coerce: Callable[[Any], PubT],
    kind: str,
    v1_args: Sequence[Any] = (),
) -> list[PubT]:
    """Coerce every pub with Qiskit's own ``coerce`` and name the pub that fails.

    A first element that is not a circuit gives a ``TypeError`` saying so (Qiskit would
    raise an ``AttributeError`` from deep inside). Calls in the V1 primitives' style get a
    message that shows the pub form.

    Args:
        pubs: The pubs given to ``run()``.
        coerce: Qiskit's coercion of one pub (with the run's default shots or precision).
        kind: ``"Sampler"`` or ``"Estimator"``.
        v1_args: Positional arguments given to ``run()`` after ``pubs`` (observables or
            parameter values, as V1 primitives took them); any refuses the call.

    Raises:
        TypeError: ``v1_args`` is not empty, or a pub does not start with a circuit.
        ValueError: a single circuit was given unwrapped, or a pub is invalid
            (:class:`~qiskit_haiqu.HaiquInputError` for a V1-style list of circuits and
            values, or an estimator pub that is a bare circuit).
    """
    if v1_args:
        raise TypeError(_v1_style(kind))
    if isinstance(pubs, QuantumCircuit):
        example = "[(circuit, observables)]" if kind == "Estimator" else "[circuit]"
        raise ValueError(
            f"An invalid {kind} pub-like was given ({type(pubs)}). If you want to run a single "
            f"circuit, you need to wrap it with `[]` like `{kind.lower()}.run({example})` "
            f"instead of `{kind.lower()}.run(circuit)`."
        )
    pubs = list(pubs)
    hint = _shape_hint(pubs, kind)
    coerced = []
    for index, pub in enumerate(pubs):
        if isinstance(pub, tuple | list) and pub and not isinstance(pub[0], QuantumCircuit):
            raise TypeError(
                f"Pub {index}: the first element must be a QuantumCircuit, not "
                f"{type(pub[0]).__name__}." + ("" if hint is None else f" {hint}")
            )
        try:
            coerced.append(coerce(pub))
        except ValueError as exc:
            if hint is not None:  # Qiskit's own words first, then what to write instead
                raise HaiquInputError(f"{exc} {hint}") from None
            if not _values_not_numeric(pub, 1 if kind == "Sampler" else 2):
                raise
            raise HaiquInputError(
                f"Pub {index}: parameter values must be real numbers ({exc})."
            ) from None
    return coerced


def _values_not_numeric(pub: Any, position: int) -> bool:
    """Whether the parameter values of a pub (at ``position`` of its tuple) hold text."""
    if not isinstance(pub, tuple | list) or len(pub) <= position:
        return False
    return _holds_text(pub[position])


def _holds_text(value: Any) -> bool:
    if isinstance(value, str | bytes):
        return True
    if isinstance(value, np.ndarray):
        if value.dtype.kind in "US":
            return True
        return value.dtype.kind == "O" and any(_holds_text(v) for v in value.ravel())
    if isinstance(value, Mapping):
        return any(_holds_text(v) for v in value.values())
    if isinstance(value, list | tuple):
        return any(_holds_text(v) for v in value)
    return False


def check_registers(circuit: QuantumCircuit, index: int) -> None:
    """Refuse the classical register names the result container refuses, as it refuses them.

    Qiskit's samplers accept any register name ``DataBin`` takes (``"my-reg"``, ``"if"``,
    zero-width registers) and fail on the others only when the result is built; here the
    same check runs before anything is sent, with the same exception type.
    """
    fields = {creg.name: _PLACEHOLDER for creg in circuit.cregs}
    try:
        DataBin(**fields, shape=())
    except (TypeError, ValueError) as exc:
        names = ", ".join(repr(creg.name) for creg in circuit.cregs)
        raise type(exc)(
            f"Pub {index}: the classical register names ({names}) cannot all be fields of the "
            f"result's DataBin ({exc}). Rename the register, e.g. ClassicalRegister(n, 'c1'); "
            f"DataBin reserves {', '.join(sorted(RESERVED_REGISTER_NAMES))} and dunder names."
        ) from None


def warn_if_no_registers(circuits: Iterable[QuantumCircuit]) -> None:
    """Warn as Qiskit's samplers do when a circuit has no classical register."""
    if any(len(circuit.cregs) == 0 for circuit in circuits):
        warn_user(
            "One of your circuits has no output classical registers and so the result "
            "will be empty. Did you mean to add measurement instructions?"
        )


def _check_names(circuit: QuantumCircuit, values: BindingsArray, index: int) -> None:
    """Refuse values for parameters the circuit does not have, as Qiskit's binding does."""
    known = {parameter.name for parameter in circuit.parameters}
    for key in values.data:
        for parameter in key:
            name = parameter if isinstance(parameter, str) else parameter.name
            if name not in known:
                raise KeyError(
                    f"Pub {index}: no parameter named {name!r} is present in the circuit "
                    f"(its parameters: {', '.join(sorted(known)) or 'none'})."
                )


def parameter_rows(circuit: QuantumCircuit, values: BindingsArray, index: int) -> np.ndarray:
    """The pub's parameter values as rows in ``circuit.parameters`` order.

    Returns:
        A float64 array of shape ``(values.size, circuit.num_parameters)``.

    Raises:
        HaiquInputError: a value is NaN or infinite, or not a real number.
    """
    num = circuit.num_parameters
    _check_names(circuit, values, index)
    if num == 0:
        return np.zeros((int(np.prod(values.shape, dtype=int)), 0))
    try:
        array = values.as_array(circuit.parameters)
    except (TypeError, ValueError) as exc:
        raise HaiquInputError(
            f"Pub {index}: parameter values must be real numbers ({exc})."
        ) from None
    if np.iscomplexobj(array):
        raise HaiquInputError(f"Pub {index}: parameter values must be real, not complex.")
    try:
        rows = np.asarray(array, dtype=np.float64).reshape(-1, num)
    except (TypeError, ValueError) as exc:
        raise HaiquInputError(
            f"Pub {index}: parameter values must be real numbers ({exc})."
        ) from None
    if not np.isfinite(rows).all():
        bad = np.argwhere(~np.isfinite(rows))[0]
        name = circuit.parameters[int(bad[1])].name
        raise HaiquInputError(
            f"Pub {index}: parameter {name!r} has a non-finite value ({rows[tuple(bad)]}) in "  # noqa: S608
            f"row {int(bad[0])}. Replace NaN/infinite values with finite numbers."
        )
    return rows
