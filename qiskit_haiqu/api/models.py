"""Pydantic models of the Haiqu REST API's request and response bodies.

Shared by the client and the emulator so both speak the same wire format. Response models
ignore fields they do not know (a newer server may add some). Job statuses and job types are
kept as plain strings on the wire models so that a value added by a newer server never makes a
whole response unreadable; :func:`parse_status` turns a status into :class:`JobStatus` and
raises :class:`~qiskit_haiqu.errors.UnknownJobStatusError` naming any value it does not know.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from enum import Enum
from typing import Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    SerializerFunctionWrapHandler,
    field_serializer,
    field_validator,
    model_validator,
)

from qiskit_haiqu.api.bodies import plain
from qiskit_haiqu.api.program import FlowProgram
from qiskit_haiqu.api.redact import mask_credentials
from qiskit_haiqu.errors import UnknownJobStatusError

__all__ = [
    "BaseJob",
    "Circuit",
    "CircuitSubmit",
    "Cost",
    "CostAmount",
    "Device",
    "Experiment",
    "ExperimentSubmit",
    "FINAL_STATUSES",
    "HybridJob",
    "HybridSubmit",
    "JobStatus",
    "JobType",
    "RunJob",
    "RunSubmit",
    "RunType",
    "User",
    "VersionInfo",
    "parse_status",
]

# Wire types of the big payload fields.
ObservablePair = tuple[list[str], list[float]]
"""One observable: ``(pauli_labels, real_coefficients)``, labels little-endian."""


class _Model(BaseModel):
    """Base of every wire model: unknown fields are allowed and ignored; enums go as values."""

    model_config = ConfigDict(extra="ignore", use_enum_values=True, populate_by_name=True)


class JobStatus(str, Enum):
    """Status of a Haiqu job. ``Done``, ``Error`` and ``Cancelled`` are final."""

    SUBMITTED = "Submitted"
    INITIALIZING = "Initializing"
    QUEUED = "Queued"
    VALIDATING = "Validating"
    RUNNING = "Running"
    CANCELLED = "Cancelled"
    DONE = "Done"
    ERROR = "Error"


FINAL_STATUSES = frozenset({JobStatus.DONE, JobStatus.ERROR, JobStatus.CANCELLED})


def parse_status(value: str, *, job_id: str = "") -> JobStatus:
    """Return the :class:`JobStatus` for a wire value.

    Raises:
        UnknownJobStatusError: ``value`` is not a status this client knows; the message names
            it, so a newer server's status is never silently taken for another.
    """
    try:
        return JobStatus(value)
    except ValueError:
        known = ", ".join(s.value for s in JobStatus)
        raise UnknownJobStatusError(
            f"Job {job_id or '?'} has status {value!r}, which this version of qiskit-haiqu "
            f"does not know (known: {known}). Upgrade qiskit-haiqu; the job itself is "
            "unaffected and can be fetched again by its id.",
            job_id=job_id,
        ) from None


class JobType(str, Enum):
    """Kind of a Haiqu job. A ``POST /run`` job is ``Run``."""

    USER_LOCAL_JOB = "User local job"
    ANALYTICS = "Analytics"
    DEVICE_SPECIFIC_ANALYTICS = "Device specific analytics"
    DATA_LOADING = "Data Loading"
    RUN = "Run"
    STATE_COMPRESSION = "State Compression"
    TRANSPILATION = "Transpilation"
    VARIATIONAL = "Variational"
    PRETRAINING = "Pretraining"
    SKQD = "SKQD"
    HYBRID = "Hybrid"


class RunType(str, Enum):
    """What a ``POST /run`` job returns: measured distributions or a statevector."""

    RUN = "Run"
    STATEVECTOR_RUN = "StatevectorRun"


class VersionInfo(_Model):
    """``GET /version``."""

    version: str


class User(_Model):
    """The owner of an experiment. The access key is kept secret and never printed."""

    email: str
    username: str
    first_name: str
    last_name: str
    api_access_key: SecretStr = Field(repr=False)


class ExperimentSubmit(_Model):
    """Body of ``POST /experiments/init`` (get-or-create by name)."""

    name: str = Field(min_length=1, max_length=200)
    description: str = ""
    tags: str = Field(default="", max_length=1024)
    metrics: dict[str, Any] = Field(default_factory=dict)


class Experiment(_Model):
    """An experiment: the folder that holds circuits and jobs."""

    id: str
    name: str
    description: str
    creation_date: datetime
    user_id: int
    user: User
    tags: str | None = None
    circuits_count: int | None = None
    jobs_count: int | None = None
    last_action_date: datetime | None = None
    metrics: dict[str, Any] | None = None


class CircuitSubmit(_Model):
    """Body of ``POST /circuits``: one circuit as base64 QPY plus its hash."""

    experiment_id: str = Field(min_length=1)
    qpy_dump: str = Field(min_length=1)
    hash: str = Field(min_length=1, max_length=200)
    name: str = Field(default="", max_length=200)
    description: str = Field(default="", max_length=1024)
    tags: str = Field(default="", max_length=1024)
    metrics: dict[str, Any] = Field(default_factory=dict)


class Circuit(_Model):
    """A stored circuit. ``status`` is its analytics state, not a job state."""

    id: str
    hash: str
    name: str
    creation_date: datetime
    user_id: int
    experiment_id: str
    status: str
    generated: bool
    description: str | None = None
    tags: str | None = None
    parameters: dict[str, Any] | None = None
    analytics: dict[str, Any] | None = None
    transpilation_target: str | None = None
    transpilation_options: dict[str, Any] | None = None
    transpiled_circuit_ids: list[str] | None = None
    compressed_circuit_ids: list[str] | None = None
    job_ids: list[str] | None = None
    qpy: str | None = None
    evolution: Any = None
    metrics: dict[str, Any] | None = None


class Device(_Model):
    """A device a job can run on (a simulator, a fake noisy device or a QPU)."""

    id: str
    vendor: str
    name: str
    qubits: int
    status: str
    simulator: bool
    last_updated: datetime | None = None
    pending_jobs: int | None = None
    operation_names: list[str] | None = None
    coupling_map: list[list[int]] | None = None


class CostAmount(_Model):
    """An amount with its unit, e.g. ``{"amount": 1.2, "unit": "USD"}``; both may be absent.

    Free-form: keys other than ``amount`` and ``unit`` are kept (``model_extra``).
    """

    model_config = ConfigDict(extra="allow")

    amount: float | None = None
    unit: str | None = None


class Cost(_Model):
    """A cost in the vendor's unit (``native``) and in US dollars (``converted``).

    Free-form, as the service may add to it: any other key is kept (``model_extra``), a bare
    number is read as an amount without unit, and an entry of any other shape as absent.
    """

    model_config = ConfigDict(extra="allow")

    native: CostAmount | None = None
    converted: CostAmount | None = None

    @field_validator("native", "converted", mode="before")
    @classmethod
    def _loose_amount(cls, value: Any) -> Any:
        if isinstance(value, bool):
            return None
        if isinstance(value, int | float):
            return {"amount": value}
        return value if isinstance(value, dict | CostAmount) else None


class RunSubmit(_Model):
    """Body of ``POST /run``.

    ``parameters`` is 2-D (rows of one circuit) or 3-D (rows per circuit, ``circuit_ids``
    order); ``observables`` is always 3-D: per circuit, a list of
    ``[pauli_labels, real_coefficients]`` pairs in Qiskit's little-endian label order.
    """

    experiment_id: str = Field(min_length=1)
    circuit_ids: list[str] = Field(default_factory=list)
    parameters: list[Any] | None = None
    shots: int = Field(default=1024, ge=1, description="Number of measurement shots (>= 1)")
    observables: list[list[ObservablePair]] | None = None
    readout_bases: list[str] | None = None
    device_id: str | None = Field(default="", max_length=200)
    options: dict[str, Any] = Field(default_factory=dict)
    use_mitigation: bool | None = False
    name: str | None = Field(default="", max_length=200)
    description: str | None = Field(default="", max_length=1024)
    dry_run: bool | None = False
    run_type: RunType | None = Field(default=RunType.RUN, validate_default=True)


class HybridSubmit(_Model):
    """Body of ``POST /flow``: the run's circuits and data, and the program that runs them.

    ``parameters``, ``observables`` and ``readout_bases`` have the shapes of
    :class:`RunSubmit`'s. What ``POST /run`` carries in ``device_id``, ``options``,
    ``use_mitigation`` and ``run_type`` lives in the program's layers, except the device
    credentials: they travel in ``device_credentials`` (kept secret here, never echoed).
    """

    experiment_id: str = Field(min_length=1)
    name: str | None = Field(default="", max_length=200)
    description: str | None = Field(default="", max_length=1024)
    program: FlowProgram
    circuit_ids: list[str] = Field(min_length=1)
    shots: int = Field(default=1000, ge=1)
    parameters: list[Any] | None = None
    observables: list[list[ObservablePair]] | None = None
    readout_bases: list[str] | None = None
    device_credentials: dict[str, SecretStr | None] = Field(default_factory=dict, repr=False)
    dry_run: bool = False


class BaseJob(_Model):
    """The fields every job has (the body of cancel and restart answers)."""

    id: str
    user_id: int
    experiment_id: str
    status: str
    job_type: str
    creation_date: datetime
    device_id: str = "Haiqu OS"
    name: str | None = None
    description: str | None = None
    run_date: datetime | None = None
    finish_date: datetime | None = None
    logs: str | None = None
    quality: float | None = None
    info: dict[str, Any] | None = None
    time: float | None = None
    parameters: Any = None
    """Run jobs: the parameter rows sent; other job types: whatever they hold (an object for
    data loading)."""


class RunJob(BaseJob):
    """A ``POST /run`` job, as ``POST /run`` and ``GET /jobs/{id}`` return it.

    ``quantum_results`` nest as circuit, then observable (or basis), then parameter row;
    ``info["uncertainty"]`` nests the same way when observables were given.
    """

    device_id: str
    circuit_ids: list[Any]
    shots: int
    options: dict[str, Any] = Field(default_factory=dict)
    use_mitigation: bool | None
    dry_run: bool
    run_type: str
    parameters: list[Any] | None = None
    observables: list[Any] | None = None
    readout_bases: list[str] | None = None
    quantum_results: list[Any] | None = None
    """Rows read from a reply may be :class:`~qiskit_haiqu.api.bodies.RawRows` (decoded when
    read); dumped, they are lists."""
    estimated_qpu_cost: Cost | None = None

    @field_serializer("quantum_results", mode="wrap")
    def _dump_results(self, value: Any, handler: SerializerFunctionWrapHandler) -> Any:
        """Rows kept as JSON text dump as the lists of objects they are."""
        return handler(plain(value))

    def __repr_args__(self) -> Iterator[tuple[str | None, Any]]:
        """The fields, with the device credentials the service echoes in ``options`` (and a
        ``/flow`` job's ``program``) masked; the data itself is unchanged."""
        for name, value in super().__repr_args__():
            yield name, mask_credentials(value) if name in _ECHOED_OPTIONS else value


_ECHOED_OPTIONS = frozenset({"options", "program"})
"""Job fields that echo what the run was submitted with, device credentials included."""


class HybridJob(RunJob):
    """A ``POST /flow`` job (``job_type`` ``Hybrid``): a run job whose settings sit in layers.

    ``quantum_results`` and ``info["uncertainty"]`` nest exactly as a ``Run`` job's. What a
    ``Run`` job carries at the top level is read from the program when absent:
    ``circuit_ids`` from ``input_circuit_ids``, ``device_id`` and ``options`` from the
    ``device`` layer, ``use_mitigation`` from the ``estimator`` or
    ``distribution_mitigation`` layer's ``mitigation_enabled``, and ``run_type`` is
    ``StatevectorRun`` when the last layer is ``statevector``.
    """

    device_id: str = ""
    circuit_ids: list[Any] = Field(default_factory=list)
    shots: int = 1000
    use_mitigation: bool | None = None
    dry_run: bool = False
    run_type: str = RunType.RUN.value
    input_circuit_ids: list[Any] | None = None
    program: dict[str, Any] | None = None
    quality_assessment: Any = None
    pre_device_pipeline_time: float | None = None

    @model_validator(mode="before")
    @classmethod
    def _from_program(cls, data: Any) -> Any:
        """Fill the run-job fields the reply leaves out from ``input_circuit_ids`` and layers."""
        if not isinstance(data, dict):
            return data
        filled = dict(data)
        if not filled.get("circuit_ids") and isinstance(filled.get("input_circuit_ids"), list):
            filled["circuit_ids"] = filled["input_circuit_ids"]
        layers = _layers(filled.get("program"))
        for layer in layers:
            kind = layer.get("type")
            if kind == "device":
                _fill(filled, "device_id", layer.get("device_id"))
                _fill(filled, "options", layer.get("options"))
            elif kind in ("estimator", "distribution_mitigation"):
                _fill(filled, "use_mitigation", layer.get("mitigation_enabled"))
            elif kind == "statevector":
                _fill(filled, "run_type", RunType.STATEVECTOR_RUN.value)
        return filled


def _layers(program: Any) -> list[dict[str, Any]]:
    """The layers of a ``/flow`` program that are objects (anything else is skipped)."""
    layers = program.get("layers") if isinstance(program, dict) else None
    return [layer for layer in layers or () if isinstance(layer, dict)]


def _fill(data: dict[str, Any], key: str, value: Any) -> None:
    """Set ``data[key]`` to ``value`` when the reply has no (or a null) value of its own."""
    if data.get(key) is None and value is not None:
        data[key] = value
