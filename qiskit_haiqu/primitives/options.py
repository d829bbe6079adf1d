"""Options of :class:`HaiquSampler` and :class:`HaiquEstimator`.

Options are closed pydantic models: an unknown name or an invalid value is refused when it is
set (at construction or on assignment), not at the next ``run()``, with a
:class:`~qiskit_haiqu.HaiquInputError` whose message names the option and the value's
problem (qiskit-ibm-runtime's option names get their Haiqu equivalent, see
:mod:`~qiskit_haiqu.primitives.runtime_names`). Plain dicts are accepted wherever an options
object is.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np
import orjson
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    FieldSerializationInfo,
    SecretStr,
    StrictBool,
    StrictInt,
    StrictStr,
    ValidationError,
    ValidationInfo,
    field_serializer,
    field_validator,
    model_validator,
)

from qiskit_haiqu.api.flow import CREDENTIAL_KEYS
from qiskit_haiqu.api.redact import SECRET_CREDENTIAL_KEYS, SECRET_MASK, mask_credentials
from qiskit_haiqu.errors import HaiquInputError, UnknownOptionError
from qiskit_haiqu.logs import quiet_http_loggers
from qiskit_haiqu.primitives.progress import ProgressCallback
from qiskit_haiqu.primitives.runtime_names import unknown_option_message

# Importing the primitives is importing qiskit_haiqu: apply its logging policy (one line per
# job status change at INFO, not one per HTTP request; see qiskit_haiqu.logs).
quiet_http_loggers()

__all__ = [
    "CommonOptions",
    "DeviceCredentials",
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


ENVIRONMENT_CREDENTIALS: Mapping[str, Mapping[str, tuple[str, ...]]] = {
    "aws": {
        "aws_access_key_id": ("AWS_ACCESS_KEY_ID",),
        "aws_secret_access_key": ("AWS_SECRET_ACCESS_KEY",),
        "aws_session_token": ("AWS_SESSION_TOKEN",),
        "aws_default_region": ("AWS_REGION", "AWS_DEFAULT_REGION"),
    },
    "iqm": {
        "iqm_token": ("IQM_TOKEN",),
        "iqm_server_url": ("IQM_SERVER_URL",),
    },
}
"""Per device-id prefix, the environment variables each credential is read from (the first
set one wins), as haiqu-sdk 1.7.0 reads them. IBM and IonQ credentials have none: the SDK
reads IBM's from a saved ``QiskitRuntimeService`` account, IonQ's only from the options."""


class DeviceCredentials(_Closed):
    """Credentials of the vendor account a QPU job runs on, sent with the job's ``options``.

    Secrets are ``SecretStr``: shown as ``'**********'`` in every repr, message, log line
    and default ``model_dump()``; ``get_secret_value()`` gives the value. The region, the
    IBM instance and the IQM server URL are plain settings. Unset credentials of ``aws*``
    and ``iqm*`` devices are read from the environment at ``run()``, as the haiqu-sdk reads
    them (``ENVIRONMENT_CREDENTIALS``), except for dry runs.
    """

    ibm_quantum_token: SecretStr | None = None
    """IBM Quantum API token (``ibm*`` devices)."""
    ibm_quantum_instance: str | None = None
    """IBM Quantum instance (CRN or name) the token runs on."""
    aws_access_key_id: SecretStr | None = None
    """AWS access key id (``aws*`` devices); env ``AWS_ACCESS_KEY_ID``."""
    aws_secret_access_key: SecretStr | None = None
    """AWS secret access key; env ``AWS_SECRET_ACCESS_KEY``."""
    aws_session_token: SecretStr | None = None
    """AWS session token of temporary (STS) credentials; env ``AWS_SESSION_TOKEN``."""
    aws_default_region: str | None = None
    """AWS region (the service's default: ``us-east-1``); env ``AWS_REGION`` or
    ``AWS_DEFAULT_REGION``."""
    iqm_token: SecretStr | None = None
    """IQM Resonance API token (``iqm*`` devices); env ``IQM_TOKEN``."""
    iqm_server_url: str | None = None
    """IQM Resonance server (the service's default: ``https://resonance.iqm.tech``); env
    ``IQM_SERVER_URL``."""
    ionq_api_key: SecretStr | None = None
    """IonQ API key."""

    def to_wire(self) -> dict[str, str]:
        """The credentials that are set, in clear, as the wire's ``options`` carries them."""
        return {name: _clear(value) for name, value in self._set()}

    def with_environment(
        self, device_id: str, environ: Mapping[str, str] | None = None
    ) -> DeviceCredentials:
        """These credentials, those unset read from the environment for ``device_id``.

        Only the credentials of the device's vendor are read (``aws*``, ``iqm*`` ids), so
        an AWS key in the environment never goes with a job on another device.
        """
        environ = os.environ if environ is None else environ
        found: dict[str, Any] = {}
        for prefix, names in ENVIRONMENT_CREDENTIALS.items():
            if not device_id.lower().startswith(prefix):
                continue
            for name, variables in names.items():
                value = next((environ[v] for v in variables if environ.get(v)), None)
                if value is not None and getattr(self, name) is None:
                    found[name] = value
        if not found:
            return self
        return DeviceCredentials(**{**dict(self._set()), **found})

    def _set(self) -> Iterator[tuple[str, Any]]:
        """The (name, value) pairs of the credentials that are set."""
        return ((name, value) for name, value in self if value is not None)

    def __repr_args__(self) -> Iterator[tuple[str, Any]]:
        """Only the credentials that are set (their secrets masked by ``SecretStr``)."""
        return self._set()


def _clear(value: Any) -> Any:
    """A credential's value in clear."""
    return value.get_secret_value() if isinstance(value, SecretStr) else value


class DeviceOptionTypes(BaseModel):
    """The device options the Haiqu API documents, with their types, checked when set.

    A key not listed here (one the service adds later) passes through unchanged, as long as
    JSON can carry its value.
    """

    model_config = ConfigDict(extra="allow")

    seed_simulator: StrictInt | None = None
    method: StrictStr | None = None
    matrix_product_state_max_bond_dimension: StrictInt | None = Field(default=None, ge=1)
    noise_model: dict[str, Any] | StrictStr | None = None
    use_packing: StrictBool | None = None
    pack_size: StrictInt | None = Field(default=None, ge=2)
    skip_transpilation: StrictBool | None = None
    use_fractional_gates: StrictBool | None = None
    transpilation_options: dict[str, Any] | None = None
    auto_quality: StrictBool | None = None

    @model_validator(mode="after")
    def _pack_size_needs_packing(self) -> DeviceOptionTypes:
        if self.pack_size is not None and not self.use_packing:
            raise ValueError("pack_size only takes effect with use_packing=True; set both")
        return self


def _wire_options(options: Mapping[str, Any]) -> dict[str, Any]:
    """Device options as the wire carries them, or a ``ValueError`` naming the bad key."""
    converted = {key: _wire_value(key, item) for key, item in options.items()}
    try:
        DeviceOptionTypes.model_validate(converted)
    except ValidationError as exc:
        problems = "; ".join(
            (f"device_options[{'.'.join(map(str, e['loc']))!r}]" if e["loc"] else "device_options")
            + f": {e['msg'].removeprefix('Value error, ')}"
            for e in exc.errors()[:5]
        )
        raise ValueError(problems) from None
    return converted


def _wire_value(key: str, value: Any) -> Any:
    """One device option as JSON carries it (a ``NoiseModel`` as its serialisable dict)."""
    if isinstance(value, np.generic):
        value = value.item()
    if key == "noise_model" and callable(getattr(value, "to_dict", None)):
        value = value.to_dict(serializable=True)
    try:
        orjson.dumps(value, option=orjson.OPT_SERIALIZE_NUMPY)
    except TypeError:
        raise ValueError(
            f"device_options[{key!r}] is a {type(value).__name__}, which cannot be sent to the "
            "service as JSON; give numbers, strings, lists or dicts (a qiskit-aer NoiseModel "
            "given as noise_model is converted for you)"
        ) from None
    return value


def _split_credentials(device_options: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """``device_options`` without the device credentials, and the credentials it held."""
    kept = {key: value for key, value in device_options.items() if key not in CREDENTIAL_KEYS}
    moved = {key: value for key, value in device_options.items() if key in CREDENTIAL_KEYS}
    return kept, moved


class CommonOptions(_Closed):
    """Options shared by the sampler and the estimator."""

    use_mitigation: bool = False
    """Ask the service to mitigate errors (sampler results become quasi-probabilities)."""
    error_mitigation_options: ErrorMitigationOptions = Field(default_factory=ErrorMitigationOptions)
    """Fine control of mitigation; see :class:`ErrorMitigationOptions`."""
    device_options: dict[str, Any] = Field(default_factory=dict)
    """Forwarded as the wire's ``options``: ``noise_model``, ``method``, ``seed_simulator``,
    ``use_packing``, ``skip_transpilation``, ... Device credentials given here are moved to
    ``device_credentials``."""
    device_credentials: DeviceCredentials = Field(default_factory=DeviceCredentials)
    """Vendor credentials of QPU devices (see :class:`DeviceCredentials`), sent in the wire's
    ``options``; secrets are never shown. Unset ones of ``aws*`` and ``iqm*`` devices are
    read from the environment at ``run()``, as the haiqu-sdk reads them."""
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

    @model_validator(mode="before")
    @classmethod
    def _credentials_out_of_device_options(cls, data: Any, info: ValidationInfo) -> Any:
        """Move device credentials given in ``device_options`` to ``device_credentials``.

        Assignments are left alone (``__setattr__`` moves them): pydantic would store what
        this returns for the other fields without validating it. Pydantic before 2.8 does
        not say which calls are assignments, so the credentials are returned validated.

        Raises:
            ValueError: a credential is given in both, with different values.
        """
        if info.field_name is not None or not isinstance(data, Mapping):
            return data
        if not isinstance(data.get("device_options"), Mapping):
            return data
        kept, moved = _split_credentials(data["device_options"])
        if not moved:
            return data
        given = data.get("device_credentials")
        if isinstance(given, DeviceCredentials):
            given = dict(given._set())
        if given is None:
            given = {}
        if isinstance(given, Mapping):
            twice = sorted(k for k in moved if k in given and _clear(given[k]) != _clear(moved[k]))
            if twice:
                raise ValueError(
                    f"device credential {', '.join(twice)} is given twice, in device_options "
                    "and in device_credentials, with different values; give it once, in "
                    "device_credentials"
                )
            given = {**moved, **given}
            # When invalid, refused below against device_credentials, as any invalid value.
            with contextlib.suppress(ValidationError):
                given = DeviceCredentials.model_validate(given)
        return {**data, "device_options": kept, "device_credentials": given}

    def __setattr__(self, name: str, value: Any) -> None:
        """Validate an assignment; credentials assigned in ``device_options`` are moved."""
        if name == "device_options" and isinstance(value, Mapping):
            value, moved = _split_credentials(value)
            if moved:
                merged = {**dict(self.device_credentials._set()), **moved}
                candidate = DeviceCredentials(**merged)  # validated before anything is set
                super().__setattr__("device_options", value)
                super().__setattr__("device_credentials", candidate)
                return
        super().__setattr__(name, value)

    @field_validator("device_options", mode="after")
    @classmethod
    def _wire_ready(cls, value: dict[str, Any]) -> dict[str, Any]:
        """Device options as the wire carries them, checked when they are set.

        A qiskit-aer ``NoiseModel`` becomes its serialisable dict (what the service reads);
        a value JSON cannot carry is refused here, not after requests were sent.
        """
        return _wire_options(value)

    @field_serializer("device_options")
    def _masked_device_options(
        self, device_options: dict[str, Any], info: FieldSerializationInfo
    ) -> dict[str, Any]:
        """Credentials put into ``device_options`` in place are dumped as ``SecretStr`` (as
        its mask in JSON)."""
        return {
            key: (SECRET_MASK if info.mode_is_json() else SecretStr(value))
            if key in SECRET_CREDENTIAL_KEYS and isinstance(value, str)
            else value
            for key, value in device_options.items()
        }

    def __repr_args__(self) -> Iterator[tuple[str | None, Any]]:
        """The fields, with any credential put into ``device_options`` in place masked."""
        for name, value in super().__repr_args__():
            yield name, mask_credentials(value) if name == "device_options" else value

    def wire_device_options(self) -> dict[str, Any]:
        """The wire's ``options`` as far as they come from ``device_options`` and
        ``device_credentials``: the credentials' clear values merged in."""
        return {**self.device_options, **self.device_credentials.to_wire()}

    def for_device(self: _Options, device_id: str) -> _Options:
        """A copy for one run on ``device_id``: unset credentials of its vendor read from the
        environment (not for a dry run, as the haiqu-sdk does)."""
        if self.dry_run:
            return self
        credentials = self.device_credentials.with_environment(device_id)
        if credentials is self.device_credentials:
            return self
        copy = self.snapshot()
        copy.device_credentials = credentials
        return copy

    def snapshot(self: _Options) -> _Options:
        """A deep copy for one run; the ``progress`` callback is shared, not copied."""
        callback = self.progress
        copy = self.model_copy(update={"progress": False}).model_copy(deep=True)
        copy.progress = callback
        copy.device_options = copy.device_options  # credentials set in place: moved
        return copy


class SamplerOptions(CommonOptions):
    """Options of :class:`~qiskit_haiqu.HaiquSampler`."""

    default_shots: int = Field(default=1024, ge=1, strict=True)
    """Shots of pubs that set none and of ``run()`` calls without ``shots``."""


class EstimatorOptions(CommonOptions):
    """Options of :class:`~qiskit_haiqu.HaiquEstimator`."""

    default_precision: float = Field(default=0.015625, ge=0)
    """Target precision of pubs that set none; shots = ceil(1 / precision**2). ``0`` asks
    for exact values (a statevector run of the service, up to 20 qubits)."""
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


_SECRET_PLACES = CREDENTIAL_KEYS | {"device_credentials"}
"""Field names under which a value given may be a credential: never repeated in a message."""


def _unknown_text(model: type[BaseModel], name: str) -> str:
    return unknown_option_message(model.__name__, name, model.model_fields)


def _unknown(model: type[BaseModel], name: str) -> UnknownOptionError:
    error = UnknownOptionError(_unknown_text(model, name))
    error.name = name
    return error


def _shown(value: Any, secret: bool = False) -> str:
    """A value for a message: numbers and short strings as they are, else only their type.

    Options hold device credentials and noise models: neither belongs in a message, and a
    ``secret`` value (anything given for a device credential) is never shown.
    """
    if secret:
        kind = type(value).__name__
        return f"{'an' if kind[0] in 'aeiou' else 'a'} {kind}"
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
        secret = any(str(part) in _SECRET_PLACES for part in error["loc"])
        shown = _shown(error["input"], secret)
        problems.setdefault(f"{path or model.__name__}={shown}", []).append(
            message[:1].lower() + message[1:]
        )
    if unknown_only:
        return UnknownOptionError(" ".join(problems))
    parts = [key if not why else f"{key}: {' or '.join(why)}" for key, why in problems.items()]
    return HaiquInputError(f"Invalid {model.__name__}: {'; '.join(p.rstrip('.') for p in parts)}.")
