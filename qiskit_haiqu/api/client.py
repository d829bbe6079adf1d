"""HaiquClient: a thin, typed client of the Haiqu REST API on ``httpx.Client``.

Endpoints are served at the root of the URL's host, as the official SDK builds them (any
path in the URL is dropped). The wire layer is split by concern:

- :mod:`~qiskit_haiqu.api.transport` sends, retrying idempotent requests on 429/502/503/504
  and connection failures with exponential back-off and jitter, honouring ``Retry-After``,
  within a time budget;
- :mod:`~qiskit_haiqu.api.error_mapping` turns a failed exchange into its error;
- :mod:`~qiskit_haiqu.api.creation` and :mod:`~qiskit_haiqu.api.run_submission` create jobs
  and circuits exactly once: ``POST /run`` is never blindly retried; each submission carries a
  unique token in its description, and after an ambiguous failure (the request may have
  reached the server) the experiment's jobs are searched for that token before anything is
  resubmitted. ``POST /circuits``' lost reply is resolved by looking the circuit up by hash;
- this module holds the client's settings and its endpoints.

A run goes to ``POST /run`` or, with the same meaning, to ``POST /flow`` as a hybrid program
(:mod:`~qiskit_haiqu.api.flow`); ``route="auto"`` (the default) moves to ``/flow`` for good
when the service answers that ``/run`` does not exist (:mod:`~qiskit_haiqu.api.routes`).
Exactly-once holds on both routes. A reply that names a created job always gives a job: fields
it garbles are dropped (or taken from the request) with a warning, never fatal (see
:mod:`~qiskit_haiqu.api.replies`).

Every request carries ``haiqu-sdk-version`` (:data:`~qiskit_haiqu.api.protocol.SDK_VERSION`,
the official SDK's wire format this client implements). The API key is sent in the
``authorization`` header (or, with ``auth="query"``, as the ``HAIQU_API_KEY`` query parameter)
and never appears in a message, repr or log line.
"""

from __future__ import annotations

import inspect
import logging
import os
import threading
from collections.abc import Mapping
from types import TracebackType
from typing import Any, Literal, TypeVar

import httpx
import orjson
from pydantic import BaseModel, ValidationError

from qiskit_haiqu.api.creation import Creation, Creator
from qiskit_haiqu.api.error_mapping import invalid_response_error
from qiskit_haiqu.api.flow import flow_body
from qiskit_haiqu.api.local_server import (
    LocalServer,
    private_local_server,
    shared_local_server,
)
from qiskit_haiqu.api.models import (
    BaseJob,
    Circuit,
    CircuitSubmit,
    Device,
    Experiment,
    ExperimentSubmit,
    RunJob,
    RunSubmit,
    VersionInfo,
)
from qiskit_haiqu.api.protocol import resolve_sdk_version
from qiskit_haiqu.api.redact import clean_api_key, install_log_redaction, mask_key
from qiskit_haiqu.api.replies import (
    UnreadableReply,
    decode_job,
    decode_job_listing,
    describe_errors,
    hybrid_defaults,
    job_model,
    read_job,
    submission_defaults,
)
from qiskit_haiqu.api.retry import RetryPolicy
from qiskit_haiqu.api.routes import Route, resolve_route, route_missing, run_route_missing_error
from qiskit_haiqu.api.run_submission import TOKEN_PREFIX, new_token, run_creation, run_fields
from qiskit_haiqu.api.transport import DEFAULT_TIMEOUT, Transport, json_or_none
from qiskit_haiqu.api.urls import path_segment, root_url
from qiskit_haiqu.errors import (
    HaiquConfigurationError,
    HaiquHTTPStatusError,
    HaiquInvalidResponseError,
    NotFoundError,
)

__all__ = ["DEFAULT_TIMEOUT", "DEFAULT_URL", "TOKEN_PREFIX", "HaiquClient", "RetryPolicy"]

logger = logging.getLogger("qiskit_haiqu")

DEFAULT_URL = "https://api.haiqu.ai/"
LOCAL_URL = "local"
"""The URL that means the embedded emulator."""
_LOCAL_KEY = "local"
_ODD_NOTED_MAX = 1024

ModelT = TypeVar("ModelT", bound=BaseModel)
T = TypeVar("T")


class HaiquClient:
    """A client of the Haiqu REST API.

    Example:
        >>> with HaiquClient(url="http://127.0.0.1:8000", api_key="...") as client:
        ...     print([device.id for device in client.list_devices()])

    Safe to share between threads. Use it as a context manager, or call :meth:`close`.
    """

    def __init__(
        self,
        url: str | None = None,
        api_key: str | None = None,
        *,
        auth: Literal["header", "query"] = "header",
        timeout: float | httpx.Timeout | None = None,
        retry: RetryPolicy | None = None,
        http_client: httpx.Client | None = None,
        transport: httpx.BaseTransport | None = None,
        allow_insecure: bool = False,
        sdk_version: str | None = None,
        route: Route | None = None,
    ) -> None:
        """Create a client.

        Args:
            url: API URL; else ``$HAIQU_API_URL``; else ``https://api.haiqu.ai/``.
                ``"local"``: the process's embedded emulator, started on first use, shared
                by every such client and stopped at interpreter exit.
            api_key: API key; else ``$HAIQU_API_KEY``. Surrounding whitespace (a trailing
                newline read from a file) is removed with a warning.
            auth: ``"header"`` sends ``authorization: <key>``; ``"query"`` sends the
                ``HAIQU_API_KEY`` query parameter the API reference documents.
            timeout: HTTP timeout in seconds (connect 10 s, read 60 s by default). It bounds
                one request; waiting for a job has its own timeout.
            retry: Retry policy of idempotent requests.
            http_client: An ``httpx.Client`` to send through (its base URL is ignored).
            transport: An ``httpx`` transport for the client this object creates.
            allow_insecure: Allow plain ``http://`` to a host other than this machine.
            sdk_version: The haiqu-sdk protocol version sent in ``haiqu-sdk-version`` on
                every request; else ``$HAIQU_SDK_VERSION``; else the version whose wire
                format this release implements (:data:`~qiskit_haiqu.api.protocol.SDK_VERSION`).
            route: Where runs are submitted: ``"run"`` (``POST /run``), ``"flow"`` (the
                same run as a hybrid program on ``POST /flow``, what haiqu-sdk 1.7.0
                posts), or ``"auto"``: ``/run``, and ``/flow`` from the moment the service
                answers that ``/run`` does not exist. Else ``$HAIQU_ROUTE``; else ``"auto"``.

        Raises:
            HaiquConfigurationError: no key or an unusable one (non-ASCII or control
                characters), an unusable URL, SDK version or route, or plain HTTP to a
                remote host.
        """
        self._server: LocalServer | None = None  # a private emulator, stopped on close
        chosen = url or os.environ.get("HAIQU_API_URL") or DEFAULT_URL
        self._local = chosen.strip().lower() == LOCAL_URL
        if self._local:
            chosen = shared_local_server().url
            api_key = _local_key(api_key)
        self._key = clean_api_key(_chosen_key(api_key))
        if auth not in ("header", "query"):
            raise HaiquConfigurationError(f"auth must be 'header' or 'query', not {auth!r}.")
        self.sdk_version = resolve_sdk_version(sdk_version)
        self.route: Route = resolve_route(route)
        self.base_url = root_url(chosen, allow_insecure)
        self._auth = auth
        install_log_redaction()
        self.retry = retry or RetryPolicy()
        self._transport = Transport(
            self.base_url,
            self._key,
            auth=auth,
            sdk_version=self.sdk_version,
            retry=self.retry,
            timeout=timeout,
            http_client=http_client,
            transport=transport,
        )
        self._http = self._transport.http
        self._odd_lock = threading.Lock()
        self._odd_noted: set[tuple[str, str]] = set()
        self._route_lock = threading.Lock()
        self._on_flow = self.route == "flow"

    def portable_settings(self) -> dict[str, Any]:
        """Keyword arguments that build an equivalent client in another process.

        They hold no API key: the other process reads its own ``HAIQU_API_KEY``, so a key
        never travels in a pickle. (An embedded emulator accepts any key: its placeholder
        ``"local"`` is kept.)
        """
        settings: dict[str, Any] = {
            "url": self.base_url,
            "auth": self._auth,
            "sdk_version": self.sdk_version,
            "route": "flow" if self._on_flow else self.route,
            "allow_insecure": True,  # this URL was already accepted here
        }
        if self._local:
            settings["api_key"] = _LOCAL_KEY
        return settings

    @classmethod
    def local(cls, **settings: Any) -> HaiquClient:
        """A client on an embedded emulator.

        Keyword arguments that :class:`HaiquClient` takes (``api_key``, ``retry``, ...)
        configure the client; any other is an
        :class:`~qiskit_haiqu.emulator.EmulatorSettings` field. Without emulator settings
        the client uses the process's shared emulator (as ``url="local"`` does); with some,
        it gets a private emulator on a free loopback port, stopped when it closes.

        Example:
            >>> with HaiquClient.local(min_job_seconds=1.0, retry=RetryPolicy()) as client:
            ...     ...
        """
        accepted = inspect.signature(cls.__init__).parameters
        client_args = {k: v for k, v in settings.items() if k in accepted and k != "self"}
        emulator = {k: v for k, v in settings.items() if k not in client_args}
        if not emulator:
            return cls(url=LOCAL_URL, **client_args)
        server = private_local_server(emulator)
        try:
            client_args["api_key"] = _local_key(client_args.get("api_key"))
            client = cls(url=server.url, **client_args)
        except BaseException:
            server.stop()
            raise
        client._server, client._local = server, True
        return client

    # -- lifecycle -------------------------------------------------------------------------

    def close(self) -> None:
        """Close the connections (and stop a private emulator; the shared one keeps running)."""
        self._transport.close()
        server, self._server = self._server, None
        if server is not None:
            server.stop()

    def __enter__(self) -> HaiquClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return (
            f"HaiquClient(url={self.base_url!r}, auth={self._auth!r}, "
            f"api_key={mask_key(self._key)!r}, sdk_version={self.sdk_version!r}, "
            f"route={self.route!r})"
        )

    # -- exchanges -------------------------------------------------------------------------

    def _send(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        body: bytes | None = None,
        idempotent: bool,
    ) -> httpx.Response:
        """Send one request through the transport (see :meth:`Transport.send`)."""
        return self._transport.send(method, path, params=params, body=body, idempotent=idempotent)

    def _parse(
        self, model: type[ModelT], response: httpx.Response, method: str, path: str
    ) -> ModelT:
        try:
            return model.model_validate(orjson.loads(response.content))
        except orjson.JSONDecodeError:
            problem = "the body is not JSON"
        except ValidationError as exc:
            problem = describe_errors(exc)
        raise self._invalid(method, path, f"a valid {model.__name__} ({problem})")

    def _invalid(self, method: str, path: str, what: str) -> HaiquInvalidResponseError:
        return invalid_response_error(method, path, what, self._transport.context)

    def _create(self, creation: Creation[T]) -> T:
        """POST ``creation`` exactly once (see :mod:`qiskit_haiqu.api.creation`)."""
        return Creator(self._post_once, self._invalid, self.retry).create(creation)

    def _post_once(self, path: str, payload: bytes) -> httpx.Response:
        """Send a creation once; raise :class:`Ambiguous` when its fate is unknown."""
        return self._send("POST", path, body=payload, idempotent=False)

    def _get(
        self, model: type[ModelT], path: str, params: Mapping[str, Any] | None = None
    ) -> ModelT:
        return self._parse(
            model, self._send("GET", path, params=params, idempotent=True), "GET", path
        )

    # -- endpoints -------------------------------------------------------------------------

    def version(self) -> str:
        """The API version (``GET /version``, needs no key)."""
        return self._get(VersionInfo, "/version").version

    def init_experiment(self, name: str, description: str = "") -> Experiment:
        """Get or create the experiment called ``name`` (``POST /experiments/init``)."""
        body = ExperimentSubmit(name=name, description=description).model_dump()
        response = self._send("POST", "/experiments/init", body=orjson.dumps(body), idempotent=True)
        return self._parse(Experiment, response, "POST", "/experiments/init")

    def list_experiments(self, name: str | None = None) -> list[Experiment]:
        """The account's experiments (``GET /experiments``), only those called ``name`` if given.

        Unlike :meth:`init_experiment` it never creates one; entries it cannot read are left
        out (logged at DEBUG).
        """
        params = None if name is None else {"name": name}
        return self._readable_list(Experiment, "/experiments", params)

    def get_experiment(self, experiment_id: str) -> Experiment:
        """An experiment by id."""
        return self._get(Experiment, f"/experiments/{path_segment(experiment_id, 'experiment id')}")

    def upload_circuit(self, circuit: CircuitSubmit) -> Circuit:
        """Store a circuit (``POST /circuits``) exactly once.

        After a lost or unreadable reply the circuit is looked up by its hash in the
        experiment (:meth:`find_circuit`) before it is sent again.
        """
        experiment_id, circuit_hash = circuit.experiment_id, circuit.hash
        return self._create(
            Creation(
                path="/circuits",
                payload=orjson.dumps(circuit.model_dump()),
                noun="circuit",
                read=self._read_circuit,
                look=lambda: self.find_circuit(experiment_id, circuit_hash),
                hint=(
                    f"The circuit may be stored: client.find_circuit({experiment_id!r}, "
                    f"{circuit_hash!r}) finds it. Running again is safe: circuits are looked "
                    "up by hash before they are uploaded, and storing one is not billed."
                ),
            )
        )

    def _read_circuit(self, content: bytes) -> Circuit | None:
        try:
            return Circuit.model_validate_json(content)
        except ValidationError as exc:
            logger.debug("POST /circuits: unreadable reply (%s)", describe_errors(exc))
            return None

    def get_circuit(self, circuit_id: str) -> Circuit:
        """A stored circuit by id."""
        return self._get(Circuit, f"/circuits/{path_segment(circuit_id, 'circuit id')}")

    def find_circuit(self, experiment_id: str, circuit_hash: str) -> Circuit | None:
        """The circuit with ``circuit_hash`` in the experiment, or ``None`` when it has none."""
        experiment = path_segment(experiment_id, "experiment id")
        path = f"/experiments/{experiment}/circuits/{path_segment(circuit_hash, 'circuit hash')}"
        try:
            return self._get(Circuit, path)
        except NotFoundError:
            return None

    @property
    def submission_route(self) -> Literal["run", "flow"]:
        """Where the next run goes: ``"flow"`` when chosen or switched to, else ``"run"``."""
        return "flow" if self._on_flow else "run"

    def submit_run(self, body: RunSubmit) -> RunJob:
        """Submit a run exactly once, to ``POST /run`` or ``POST /flow`` (see ``route``).

        ``body`` may be built with ``RunSubmit.model_construct`` holding numpy arrays; it
        is serialised as it is, without re-validation. On ``/flow`` it becomes the hybrid
        program that means the same (:func:`~qiskit_haiqu.api.flow.flow_body`). A unique
        token is appended to the description. If the reply is lost or unreadable, the
        experiment's newest jobs on the first circuit are searched for it, and the run is
        resubmitted (once) only when three searches agree that no job carries it. A reply
        that carries a job id always gives the job, its odd fields dropped or taken from the
        request (with a warning). With ``route="auto"``, a ``/run`` the service does not
        have (FastAPI's 404 ``Not Found``, so no job was created) moves this client to
        ``/flow`` for good, and the run is sent there.

        Raises:
            HaiquAPIError: the run was refused, or its outcome is unknown: then the error's
                ``submission_token`` names the token to look for, and its message says how.
        """
        token = new_token()
        fields = run_fields(body, token)
        if not self._on_flow:
            try:
                return self._create(
                    run_creation(
                        "/run", fields, submission_defaults(fields), token, self._job_items
                    )
                )
            except HaiquHTTPStatusError as error:
                if not route_missing(error):
                    raise
                if self.route == "run":
                    raise run_route_missing_error(error) from None
                self._switch_to_flow(error)
        flow = flow_body(fields)
        return self._create(
            run_creation("/flow", flow, hybrid_defaults(flow), token, self._job_items)
        )

    def _switch_to_flow(self, error: HaiquHTTPStatusError) -> None:
        """Submit every later run to ``POST /flow`` (logged once per client)."""
        with self._route_lock:
            if self._on_flow:
                return
            self._on_flow = True
        logger.info(
            "POST /run -> %d (%s): %s has retired POST /run; this client submits runs to "
            "POST /flow from now on (HaiquClient(route='flow') skips the first attempt)",
            error.status_code,
            error.detail,
            self.base_url,
        )

    def get_job(self, job_id: str) -> RunJob | BaseJob:
        """A job by id: a :class:`RunJob` (or :class:`HybridJob`) for run jobs, else a
        :class:`BaseJob`."""
        path = f"/jobs/{path_segment(job_id, 'job id')}"
        return self._job(self._send("GET", path, idempotent=True), "GET", path)

    def cancel_job(self, job_id: str) -> RunJob | BaseJob:
        """Ask the service to cancel a job (``POST /jobs/{id}/cancel``).

        Returns:
            The job as the service answered: the full run job when the reply holds one
            (a job that finished meanwhile comes back ``Done`` with its results), else the
            common fields only (a :class:`BaseJob`).
        """
        path = f"/jobs/{path_segment(job_id, 'job id')}/cancel"
        response = self._send("POST", path, body=b"null", idempotent=True)
        return self._job(response, "POST", path, partial=True)

    def _job(
        self, response: httpx.Response, method: str, path: str, *, partial: bool = False
    ) -> RunJob | BaseJob:
        try:
            job, odd = read_job(decode_job(response.content), partial=partial)
        except UnreadableReply as exc:
            raise self._invalid(method, path, f"a valid job ({exc})") from None
        if odd:
            self._note_odd(job.id, odd, f"{method} {path}")
        return job

    def _note_odd(self, job_id: str, odd: list[str], where: str) -> None:
        """Warn once per job and set of fields that a reply's odd fields were ignored."""
        key = (job_id, "; ".join(odd))
        with self._odd_lock:
            if key in self._odd_noted:
                return
            if len(self._odd_noted) >= _ODD_NOTED_MAX:
                self._odd_noted.clear()
            self._odd_noted.add(key)
        logger.warning("%s: ignored unreadable fields of job %s: %s", where, job_id, key[1])

    def list_jobs(
        self,
        experiment_id: str,
        *,
        limit: int | None = 10,
        job_type: str | None = None,
        circuit_id: str | None = None,
    ) -> list[RunJob | BaseJob]:
        """Recent jobs of an experiment, newest first.

        Jobs of a type this client does not know, and entries it cannot read, are left out
        (and logged at DEBUG): one odd job never hides the others.
        """
        params = {
            k: v
            for k, v in (("limit", limit), ("job_type", job_type), ("circuit_id", circuit_id))
            if v is not None
        }
        path, items = self._job_items(experiment_id, params)
        jobs: list[RunJob | BaseJob] = []
        for item in items:
            kind = item.get("job_type") if isinstance(item, dict) else None
            if job_model(kind) is None:
                logger.debug("GET %s: skipped a job of unknown type %r", path, kind)
                continue
            try:
                jobs.append(read_job(item)[0])
            except UnreadableReply as exc:
                logger.debug("GET %s: skipped an unreadable job (%s)", path, exc)
        return jobs

    def _job_items(self, experiment_id: str, params: Mapping[str, Any]) -> tuple[str, list[Any]]:
        """The raw entries of an experiment's job listing, and its path."""
        path = f"/experiments/{path_segment(experiment_id, 'experiment id')}/jobs"
        response = self._send("GET", path, params=params, idempotent=True)
        items = decode_job_listing(response.content)
        if not isinstance(items, list):
            raise self._invalid("GET", path, "a list of jobs")
        return path, items

    def list_devices(self) -> list[Device]:
        """The devices this account can use (entries it cannot read are left out)."""
        return self._readable_list(Device, "/devices", None)

    def _readable_list(
        self, model: type[ModelT], path: str, params: Mapping[str, Any] | None
    ) -> list[ModelT]:
        """A JSON list of ``model`` entries; one unreadable entry never hides the others."""
        response = self._send("GET", path, params=params, idempotent=True)
        items = json_or_none(response.content)
        if not isinstance(items, list):
            raise self._invalid("GET", path, f"a list of {model.__name__} entries")
        found = []
        for item in items:
            try:
                found.append(model.model_validate(item))
            except ValidationError as exc:
                logger.debug(
                    "GET %s: skipped an unreadable entry (%d problems)", path, exc.error_count()
                )
        return found

    def get_device(self, device_id: str) -> Device:
        """A device by id (404 for an unknown one)."""
        return self._get(Device, f"/devices/{path_segment(device_id, 'device id')}")


def _chosen_key(api_key: str | None) -> str:
    """``api_key``, else ``$HAIQU_API_KEY``; refuse when there is neither."""
    key = api_key or os.environ.get("HAIQU_API_KEY")
    if not key:
        raise HaiquConfigurationError(
            "No Haiqu API key: pass HaiquClient(api_key=...) or set the HAIQU_API_KEY "
            "environment variable (or use url='local' for the embedded emulator)."
        )
    return key


def _local_key(api_key: str | None) -> str:
    """The key for an embedded emulator (which accepts any): ``api_key``, else
    ``$HAIQU_API_KEY``, else a placeholder."""
    return api_key or os.environ.get("HAIQU_API_KEY") or _LOCAL_KEY
