"""Options of :class:`HaiquSampler` and :class:`HaiquEstimator`.

Options are closed pydantic models: an unknown name or an invalid value is refused when it is
set (at construction or on assignment), not at the next ``run()``. Plain dicts are accepted
wherever an options object is.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, StrictBool, ValidationError, field_validator

from qiskit_haiqu.errors import HaiquInputError
from qiskit_haiqu.primitives.progress import ProgressCallback

__all__ = [
    "CommonOptions",
    "ErrorMitigationOptions",
    "EstimatorOptions",
    "SamplerOptions",
    "coerce_options",
]


_Options = TypeVar("_Options", bound="CommonOptions")


class _Closed(BaseModel):
    """A model that refuses unknown fields and validates on assignment."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    @field_validator("*", mode="before")
    @classmethod
    def _numpy_scalars(cls, value: Any) -> Any:
        """Numpy numbers (``np.int64`` shots, ``np.float32`` precision) count as Python's."""
        return value.item() if isinstance(value, np.generic) else value


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
        HaiquInputError: a key is unknown (the message names it and the valid ones) or a
            value is invalid.
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
    unknown = sorted(set(value) - set(cls.model_fields))
    if unknown:
        valid = ", ".join(sorted(cls.model_fields))
        raise HaiquInputError(
            f"Unknown option(s) {', '.join(map(repr, unknown))} for {cls.__name__}. "
            f"Valid options are: {valid}."
        )
    try:
        return cls.model_validate(dict(value))
    except ValidationError as exc:
        raise HaiquInputError(f"Invalid {cls.__name__}: {exc}") from None
