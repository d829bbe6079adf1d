"""Options of :class:`HaiquSampler` and :class:`HaiquEstimator`.

Options are closed pydantic models: an unknown name or an invalid value is refused when it is
set (at construction or on assignment), not at the next ``run()``, with a
:class:`~qiskit_haiqu.HaiquInputError` whose message names the option and the value's
problem (qiskit-ibm-runtime's option names get their Haiqu equivalent, see
:mod:`~qiskit_haiqu.primitives.runtime_names`). Plain dicts are accepted wherever an options
object is.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, StrictBool, ValidationError, field_validator

from qiskit_haiqu.errors import HaiquInputError, UnknownOptionError
from qiskit_haiqu.logs import quiet_http_loggers
from qiskit_haiqu.primitives.progress import ProgressCallback
from qiskit_haiqu.primitives.runtime_names import unknown_option_message

# Importing the primitives is importing qiskit_haiqu: apply its logging policy (one line per
# job status change at INFO, not one per HTTP request; see qiskit_haiqu.logs).
quiet_http_loggers()

__all__ = [
    "CommonOptions",
    "ErrorMitigationOptions",
    "EstimatorOptions",
    "SamplerOptions",
    "UnknownOptionError",
    "coerce_options",
]


_Options = TypeVar("_Options", bound="CommonOptions")


class _Closed(BaseModel):
    """A model that refuses unknown fields and validates on assignment."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    def __init__(self, **data: Any) -> None:
        """Validate the options given by name.

        Raises:
            HaiquInputError: a value is invalid, or a name unknown (then an
                :class:`UnknownOptionError`, which names the Haiqu equivalent of a
                qiskit-ibm-runtime option).
        """
        try:
            super().__init__(**data)
        except ValidationError as exc:
            raise validation_error(type(self), exc) from None

    # Pydantic calls a custom __init__ to validate nested models too, and would wrap this one's
    # error in its own; marked as the base __init__, it is called only for SamplerOptions(...).
    __init__.__pydantic_base_init__ = True  # type: ignore[attr-defined]

    @field_validator("*", mode="before")
    @classmethod
    def _numpy_scalars(cls, value: Any) -> Any:
        """Numpy numbers (``np.int64`` shots, ``np.float32`` precision) count as Python's."""
        return value.item() if isinstance(value, np.generic) else value

    def update(self, **options: Any) -> None:
        """Set several options at once, each validated (as qiskit-ibm-runtime's ``update``).

        Raises:
            HaiquInputError: a name is unknown or a value invalid; the options before it in
                the call are set, the others are not.
        """
        for name, value in options.items():
            setattr(self, name, value)

    if not TYPE_CHECKING:  # for mypy, attributes stay the declared fields

        def __getattr__(self, name: str) -> Any:
            """Refuse an unknown option name with what to use instead."""
            if name.startswith("_") or hasattr(type(self), name):
                return super().__getattr__(name)
            raise _unknown(type(self), name)

    def __setattr__(self, name: str, value: Any) -> None:
        """Validate an assignment; refuse unknown names and invalid values cleanly."""
        if not name.startswith("_") and name not in type(self).model_fields:
            raise _unknown(type(self), name)
        try:
            super().__setattr__(name, value)
        except ValidationError as exc:
            raise validation_error(type(self), exc) from None


class ErrorMitigationOptions(_Closed):
    """The service's error-mitigation switches; only those you set are sent.

    They take effect only with ``use_mitigation=True``. Unset switches keep the server's
    defaults (dynamical decoupling, readout mitigation and advanced mitigation on, noise
    tailoring off).
    """

    dynamical_decoupling: bool | None = None
    readout_mitigation: bool | None = None
    noise_tailoring: bool | None = None
    advanced_mitigation: bool | None = None
    readout_mitigation_options: dict[str, Any] | None = None

    def to_wire(self) -> dict[str, Any]:
        """The switches that were set, as the wire's ``error_mitigation_options``."""
        return self.model_dump(exclude_none=True)


class CommonOptions(_Closed):
    """Options shared by the sampler and the estimator."""

    use_mitigation: bool = False
    """Ask the service to mitigate errors (sampler results become quasi-probabilities)."""
    error_mitigation_options: ErrorMitigationOptions = Field(default_factory=ErrorMitigationOptions)
    """Fine control of mitigation; see :class:`ErrorMitigationOptions`."""
    device_options: dict[str, Any] = Field(default_factory=dict)
    """Forwarded as the wire's ``options``: ``noise_model``, ``method``, ``seed_simulator``,
    ``use_packing``, ``skip_transpilation``, device credentials, ..."""
    dry_run: bool = False
    """Stop before the device: the result carries the estimated cost instead of data."""
    job_name: str = Field(default="", max_length=200)
    """Name given to the Haiqu jobs (defaults to the first circuit's name)."""
    job_description: str = Field(default="", max_length=512)
    """Free text stored with the Haiqu jobs."""
    experiment_name: str = Field(default="qiskit-haiqu", min_length=1, max_length=200)
    """The experiment (get-or-create by name) that holds the circuits and jobs."""
    qpy_version: int = Field(default=16, ge=13)
    """QPY version circuits are written in (16 is what the service's Qiskit reads)."""
    max_circuits_per_job: int = Field(default=500, ge=1)
    """Circuit entries one ``POST /run`` holds at most; larger runs become several jobs whose
    results are reassembled in order."""
    poll_interval: float = Field(default=0.01, gt=0, le=60)
    """Seconds before the first status poll of a job; it then grows geometrically."""
    max_poll_interval: float = Field(default=2.0, gt=0, le=300)
    """Cap of the poll interval, in seconds."""
    progress: StrictBool | ProgressCallback = False
    """While ``result()`` waits: ``True`` shows the job's status on standard error (one line
    updated in place in a terminal, a line per status change elsewhere); a callable is called
    with a :class:`~qiskit_haiqu.JobProgress` at each status change (an exception it raises
    ends the wait and propagates out of ``result()``; the job keeps running)."""

    def snapshot(self: _Options) -> _Options:
        """A deep copy for one run; the ``progress`` callback is shared, not copied."""
        callback = self.progress
        copy = self.model_copy(update={"progress": False}).model_copy(deep=True)
        copy.progress = callback
        return copy


class SamplerOptions(CommonOptions):
    """Options of :class:`~qiskit_haiqu.HaiquSampler`."""

    default_shots: int = Field(default=1024, ge=1, strict=True)
    """Shots of pubs that set none and of ``run()`` calls without ``shots``."""


class EstimatorOptions(CommonOptions):
    """Options of :class:`~qiskit_haiqu.HaiquEstimator`."""

    default_precision: float = Field(default=0.015625, gt=0)
    """Target precision of pubs that set none; shots = ceil(1 / precision**2)."""
    default_shots: int | None = Field(default=None, ge=1, strict=True)
    """When set, every pub runs with exactly this many shots, whatever its precision."""


OptionsT = TypeVar("OptionsT", bound=CommonOptions)


def coerce_options(cls: type[OptionsT], value: OptionsT | Mapping[str, Any] | None) -> OptionsT:
    """Return ``value`` as an options object of type ``cls``.

    Raises:
        HaiquInputError: a value is invalid, or a key unknown: then an
            :class:`UnknownOptionError` that names it and the valid ones, or the Haiqu
            equivalent of a qiskit-ibm-runtime option.
    """
    if value is None:
        return cls()
    if isinstance(value, cls):
        return value.snapshot()
    if isinstance(value, BaseModel):
        value = value.model_dump(exclude_unset=True)
    if not isinstance(value, Mapping):
        raise HaiquInputError(
            f"options must be a dict or a {cls.__name__}, not {type(value).__name__}."
        )
    try:
        return cls.model_validate(dict(value))
    except ValidationError as exc:
        raise validation_error(cls, exc) from None


def _unknown_text(model: type[BaseModel], name: str) -> str:
    return unknown_option_message(model.__name__, name, model.model_fields)


def _unknown(model: type[BaseModel], name: str) -> UnknownOptionError:
    error = UnknownOptionError(_unknown_text(model, name))
    error.name = name
    return error


def _shown(value: Any) -> str:
    """A value for a message: numbers and short strings as they are, else only their type.

    Options hold device credentials and noise models: neither belongs in a message.
    """
    if value is None or isinstance(value, bool | int | float):
        return repr(value)
    if isinstance(value, str) and len(value) <= 30:
        return repr(value)
    return f"a {type(value).__name__}"


def _submodel(model: type[BaseModel], name: str | int) -> type[BaseModel] | None:
    """The options model of field ``name`` of ``model`` (``None``: not a model field)."""
    field = model.model_fields.get(str(name))
    annotation = None if field is None else field.annotation
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    return None


def _field_path(
    model: type[BaseModel], loc: tuple[str | int, ...]
) -> tuple[str, type[BaseModel] | None]:
    """The dotted path of the fields at the start of ``loc``, and the model it leads to.

    A union's alternatives add their own names to pydantic's location, and an unknown name
    is no field: the path stops before them.
    """
    fields: list[str] = []
    owner: type[BaseModel] | None = model
    for part in loc:
        if owner is None or str(part) not in owner.model_fields:
            break
        fields.append(str(part))
        owner = _submodel(owner, part)
    return ".".join(fields), owner


def validation_error(model: type[BaseModel], exc: ValidationError) -> HaiquInputError:
    """A pydantic ``ValidationError`` as a clean :class:`HaiquInputError`.

    The message names each field and the value's problem, with no link to pydantic's
    documentation; unknown names get :func:`unknown_option_message`. The error is an
    :class:`UnknownOptionError` when every problem is an unknown name.
    """
    problems: dict[str, list[str]] = {}
    unknown_only = True
    for error in exc.errors(include_url=False):
        path, owner = _field_path(model, error["loc"])
        if error["type"] in ("extra_forbidden", "no_such_attribute"):
            problems.setdefault(_unknown_text(owner or model, str(error["loc"][-1])), [])
            continue
        unknown_only = False
        message = error["msg"]
        problems.setdefault(f"{path or model.__name__}={_shown(error['input'])}", []).append(
            message[:1].lower() + message[1:]
        )
    if unknown_only:
        return UnknownOptionError(" ".join(problems))
    parts = [key if not why else f"{key}: {' or '.join(why)}" for key, why in problems.items()]
    return HaiquInputError(f"Invalid {model.__name__}: {'; '.join(p.rstrip('.') for p in parts)}.")
