"""HaiquClient: a thin, typed client of the Haiqu REST API on ``httpx.Client``.

Endpoints are served at the root of the URL's host, as the official SDK builds them (any
path in the URL is dropped). Idempotent requests are retried on 429/502/503/504 and
connection failures with exponential back-off and jitter, honouring ``Retry-After``, within
a time budget. ``POST /run`` is never blindly retried: each submission carries a unique
token in its description, and after an ambiguous failure (the request may have reached the
server) the experiment's jobs are searched for that token before anything is resubmitted.

A run goes to ``POST /run`` or, with the same meaning, to ``POST /flow`` as a hybrid program
(:mod:`~qiskit_haiqu.api.flow`); ``route="auto"`` (the default) moves to ``/flow`` for good
when the service answers that ``/run`` does not exist (:mod:`~qiskit_haiqu.api.routes`).
Exactly-once holds on both routes.

The same goes for ``POST /circuits``, whose lost reply is resolved by looking the circuit up by
its hash. A reply that names a created job always gives a job: fields it garbles are dropped
(or taken from the request) with a warning, never fatal (see :mod:`~qiskit_haiqu.api.replies`).

Every request carries ``haiqu-sdk-version`` (:data:`~qiskit_haiqu.api.protocol.SDK_VERSION`,
the official SDK's wire format this client implements). The API key is sent in the
``authorization`` header (or, with ``auth="query"``, as the ``HAIQU_API_KEY`` query parameter)
and never appears in a message, repr or log line.
"""

from __future__ import annotations

import ipaddress
import logging
import os
import threading
import time
import uuid
from collections.abc import Mapping
from types import TracebackType
from typing import Any, Literal, TypeVar
from urllib.parse import quote

import httpx
import orjson
from pydantic import BaseModel, ValidationError

from qiskit_haiqu._version import __version__
from qiskit_haiqu.api.creation import Ambiguous, Creation, Creator
from qiskit_haiqu.api.flow import flow_body
from qiskit_haiqu.api.models import (
    BaseJob,
    Circuit,
    CircuitSubmit,
    Device,
    Experiment,
    ExperimentSubmit,
    JobType,
    RunJob,
    RunSubmit,
    VersionInfo,
)
from qiskit_haiqu.api.protocol import (
    SDK_VERSION,
    SDK_VERSION_ENV,
    SDK_VERSION_HEADER,
    resolve_sdk_version,
)
from qiskit_haiqu.api.redact import (
    clean_api_key,
    install_log_redaction,
    mask_key,
    redact,
    redact_data,
)
from qiskit_haiqu.api.replies import (
    UnreadableReply,
    describe_errors,
    hybrid_defaults,
    job_model,
    read_job,
    read_submitted_job,
    submission_defaults,
)
from qiskit_haiqu.api.retry import RetryPolicy, parse_retry_after
from qiskit_haiqu.api.routes import Route, resolve_route, route_missing
from qiskit_haiqu.errors import (
    AuthenticationError,
    HaiquConfigurationError,
    HaiquConnectionError,
    HaiquError,
    HaiquHTTPStatusError,
    HaiquInputError,
    HaiquInvalidResponseError,
    InsufficientCreditsError,
    InvalidRequestError,
    NotFoundError,
    OutdatedClientError,
    RateLimitedError,
    ServerError,
)

__all__ = ["DEFAULT_URL", "HaiquClient", "RetryPolicy"]

logger = logging.getLogger("qiskit_haiqu")

DEFAULT_URL = "https://api.haiqu.ai/"
DASHBOARD_PRICING = "https://dashboard.haiqu.ai"
DEFAULT_TIMEOUT = httpx.Timeout(60.0, connect=10.0)
TOKEN_PREFIX = "[qh:"  # noqa: S105 - a job tag, not a secret
_DESCRIPTION_MAX = 1024
_AMBIGUOUS_STATUSES = frozenset({502, 504})
# The search for a lost submission asks for the newest few jobs only.
_SEARCH_LIMIT = 10
_ODD_NOTED_MAX = 1024

ModelT = TypeVar("ModelT", bound=BaseModel)
T = TypeVar("T")


def _is_loopback(host: str) -> bool:
    if host in ("localhost", "localhost."):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


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
                ``"local"`` starts an embedded emulator for the life of the client.
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
        self._server: Any = None
        chosen = url or os.environ.get("HAIQU_API_URL") or DEFAULT_URL
        if chosen.strip().lower() == "local":
            from qiskit_haiqu.emulator.embedded import start_embedded

            self._server = start_embedded()
            chosen = self._server.url
            api_key = api_key or os.environ.get("HAIQU_API_KEY") or "local"
        try:
            self._key = clean_api_key(_chosen_key(api_key))
            if auth not in ("header", "query"):
                raise HaiquConfigurationError(f"auth must be 'header' or 'query', not {auth!r}.")
            self.sdk_version = resolve_sdk_version(sdk_version)
            self.route: Route = resolve_route(route)
            self.base_url = _root_url(chosen, allow_insecure)
        except HaiquConfigurationError:
            self._stop_server()
            raise
        self._auth = auth
        install_log_redaction()
        self.retry = retry or RetryPolicy()
        self._owns_http = http_client is None
        self._http = http_client or httpx.Client(
            timeout=timeout if timeout is not None else DEFAULT_TIMEOUT,
            transport=transport,
            limits=httpx.Limits(max_connections=32, max_keepalive_connections=16),
            follow_redirects=False,
        )
        self._headers = {
            "user-agent": f"qiskit-haiqu/{__version__} httpx/{httpx.__version__}",
            "content-type": "application/json",
            "accept": "application/json",
            SDK_VERSION_HEADER: self.sdk_version,
        }
        if auth == "header":
            self._headers["authorization"] = self._key
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
        if self._server is not None:
            settings["api_key"] = "local"
        return settings

    @classmethod
    def local(cls, **kwargs: Any) -> HaiquClient:
        """A client on an embedded emulator, started on a free loopback port, stopped on close."""
        return cls(url="local", **kwargs)

    # -- lifecycle -------------------------------------------------------------------------

    def close(self) -> None:
        """Close the connections (and stop an embedded emulator)."""
        if self._owns_http:
            self._http.close()
        self._stop_server()

    def _stop_server(self) -> None:
        server, self._server = getattr(self, "_server", None), None
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

    # -- transport -------------------------------------------------------------------------

    def _send(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        body: bytes | None = None,
        idempotent: bool,
    ) -> httpx.Response:
        """Send one request, retrying per the policy; raise the matching HaiquError.

        Non-idempotent requests are retried only when the server cannot have acted on them
        (the connection was never made, or a 429/503 refusal); other failures of theirs
        raise :class:`~qiskit_haiqu.api.creation.Ambiguous`.
        """
        query = dict(params or {})
        if self._auth == "query":
            query["HAIQU_API_KEY"] = self._key
        url = self.base_url + path
        waited = 0.0
        attempt = 0
        while True:
            error: HaiquError | None = None
            retry_after: float | None = None
            ambiguous = False
            start = time.perf_counter()
            try:
                response = self._http.request(
                    method, url, params=query or None, content=body, headers=self._headers
                )
            except httpx.ConnectError as exc:
                error = self._connection_error(method, path, exc)
            except (httpx.TimeoutException, httpx.TransportError) as exc:
                error = self._connection_error(method, path, exc)
                ambiguous = not idempotent and not isinstance(exc, httpx.ConnectTimeout)
            else:
                elapsed = (time.perf_counter() - start) * 1000
                logger.debug("%s %s -> %d (%.1f ms)", method, path, response.status_code, elapsed)
                if response.is_success:
                    return response
                error = self._status_error(method, path, response)
                retry_after = parse_retry_after(response.headers.get("retry-after"))
                if response.status_code not in self.retry.statuses:
                    raise error
                ambiguous = not idempotent and response.status_code in _AMBIGUOUS_STATUSES
            if ambiguous:
                raise Ambiguous(error)
            attempt += 1
            delay = self.retry.delay(attempt - 1, retry_after)
            if attempt >= self.retry.max_attempts or waited + delay > self.retry.max_total_wait:
                raise self._gave_up(error, attempt, waited)
            logger.info(
                "%s %s failed (%s); retrying in %.2f s (attempt %d of %d)",
                method,
                path,
                type(error).__name__,
                delay,
                attempt + 1,
                self.retry.max_attempts,
            )
            self.retry.sleep(delay)
            waited += delay

    def _gave_up(self, error: HaiquError, attempts: int, waited: float) -> HaiquError:
        error.args = (
            f"{error} (gave up after {attempts} attempts and {waited:.1f} s of back-off)",
        )
        error.message = error.args[0]
        return error

    def _connection_error(self, method: str, path: str, exc: Exception) -> HaiquConnectionError:
        kind = "timed out" if isinstance(exc, httpx.TimeoutException) else "failed"
        detail = redact(f"{type(exc).__name__}: {exc}", self._key)
        return HaiquConnectionError(
            f"{method} {path} {kind}: {detail}. Check that {self.base_url} is reachable and "
            "try again; raise the timeout with HaiquClient(timeout=...) for slow networks.",
            method=method,
            url=self.base_url + path,
        )

    def _status_error(self, method: str, path: str, response: httpx.Response) -> HaiquError:
        status = response.status_code
        try:
            payload: Any = orjson.loads(response.content) if response.content else None
        except orjson.JSONDecodeError:
            payload = response.text[:500]
        detail = payload.get("detail", payload) if isinstance(payload, dict) else payload
        detail = redact_data(detail, self._key)
        where = f"{method} {path} -> {status}"
        kwargs: dict[str, Any] = {
            "method": method,
            "url": self.base_url + path,
            "status_code": status,
            "detail": detail,
        }
        text = redact(_describe_detail(detail), self._key)
        if status == 401:
            return AuthenticationError(
                f"{where}: the API key was rejected. Check HAIQU_API_KEY (or api_key=...) "
                "against your key on the Haiqu dashboard.",
                **kwargs,
            )
        if status == 402:
            return InsufficientCreditsError(
                f"{where}: not enough credits for this job ({text}). Top up at "
                f"{DASHBOARD_PRICING} or run on a simulator.",
                **kwargs,
            )
        if status == 404:
            return NotFoundError(f"{where}: not found ({text}). Check the id.", **kwargs)
        if status == 422:
            return InvalidRequestError(f"{where}: the server refused the request: {text}", **kwargs)
        if status == 426:
            return self._outdated_error(where, detail, text, kwargs)
        if status == 429:
            retry_after = parse_retry_after(response.headers.get("retry-after"))
            return RateLimitedError(
                f"{where}: rate limited (retry after {retry_after} s). Slow down or retry later.",
                retry_after=retry_after,
                **kwargs,
            )
        if status >= 500:
            return ServerError(
                f"{where}: the Haiqu service failed ({text}). Try again later; if it persists, "
                "contact Haiqu support.",
                **kwargs,
            )
        return HaiquHTTPStatusError(f"{where}: {text}", **kwargs)

    def _outdated_error(
        self, where: str, detail: Any, text: str, kwargs: dict[str, Any]
    ) -> OutdatedClientError:
        said = detail.get("message") if isinstance(detail, dict) else None
        return OutdatedClientError(
            f"{where}: the service refused haiqu-sdk protocol version {self.sdk_version} "
            f"(sent in the {SDK_VERSION_HEADER} header) as outdated. It said: "
            f"{str(said or text).strip()} This qiskit-haiqu speaks the wire format of "
            f"haiqu-sdk {SDK_VERSION}. If you know it works with the newer protocol, send that "
            f"version with HaiquClient(sdk_version=...) or the {SDK_VERSION_ENV} environment "
            "variable; otherwise upgrade with: pip install --upgrade qiskit-haiqu",
            sdk_version=self.sdk_version,
            **kwargs,
        )

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
        return HaiquInvalidResponseError(
            f"{method} {path}: the server's answer is not {what}. The server may be newer or "
            "older than this client; upgrade qiskit-haiqu or report it.",
            method=method,
            url=self.base_url + path,
        )

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
        return self._get(Experiment, f"/experiments/{_seg(experiment_id, 'experiment id')}")

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
        return self._get(Circuit, f"/circuits/{_seg(circuit_id, 'circuit id')}")

    def find_circuit(self, experiment_id: str, circuit_hash: str) -> Circuit | None:
        """The circuit with ``circuit_hash`` in the experiment, or ``None`` when it has none."""
        experiment = _seg(experiment_id, "experiment id")
        path = f"/experiments/{experiment}/circuits/{_seg(circuit_hash, 'circuit hash')}"
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
        token = f"{TOKEN_PREFIX}{uuid.uuid4().hex}]"
        fields = dict(body.__dict__)
        if fields.get("readout_bases") is None:
            fields.pop("readout_bases", None)
        user_text = str(fields.get("description") or "")
        room = _DESCRIPTION_MAX - len(token) - 1
        fields["description"] = f"{user_text[:room]} {token}".lstrip()
        if not self._on_flow:
            try:
                return self._create(
                    self._submission("/run", fields, submission_defaults(fields), token)
                )
            except HaiquHTTPStatusError as error:
                if not route_missing(error):
                    raise
                if self.route == "run":
                    raise _run_route_missing(error) from None
                self._switch_to_flow(error)
        flow = flow_body(fields)
        return self._create(self._submission("/flow", flow, hybrid_defaults(flow), token))

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

    def _submission(
        self, path: str, body: Mapping[str, Any], defaults: Mapping[str, Any], token: str
    ) -> Creation[RunJob]:
        """The creation of the job ``body`` submits to ``path``, found again by ``token``."""
        experiment_id = str(body["experiment_id"])
        circuit_id = next(iter(body.get("circuit_ids") or ()), None)
        return Creation(
            path=path,
            payload=orjson.dumps(body, option=orjson.OPT_SERIALIZE_NUMPY),
            noun="job",
            read=lambda content: self._submitted(_loads(content), defaults, f"POST {path}"),
            look=lambda: self._find_submitted(experiment_id, token, circuit_id, defaults),
            hint=(
                f"The job may exist: its description carries the token {token}. Find it "
                f"with client.list_jobs({experiment_id!r}) and look for that token in the "
                "descriptions (or on the Haiqu dashboard) before running again: "
                "resubmitting may create a second job and bill it twice."
            ),
            token=token,
        )

    def _submitted(self, data: Any, defaults: Mapping[str, Any], where: str) -> RunJob | None:
        """The job a submission reply (or listing entry) announces; ``None`` without an id."""
        try:
            job, odd = read_submitted_job(data, defaults)
        except UnreadableReply as exc:
            logger.debug("%s: no job in the reply (%s)", where, exc)
            return None
        if odd:
            logger.warning(
                "%s created job %s, but parts of its reply were unreadable and were ignored "
                "or taken from the request: %s",
                where,
                job.id,
                "; ".join(odd),
            )
        return job

    def _find_submitted(
        self,
        experiment_id: str,
        token: str,
        circuit_id: str | None,
        defaults: Mapping[str, Any],
    ) -> RunJob | None:
        """One look at the experiment's newest jobs of the submission's type (``Run`` or
        ``Hybrid``, on ``circuit_id``) for ``token``."""
        job_type = str(defaults.get("job_type") or JobType.RUN.value)
        params: dict[str, Any] = {"limit": _SEARCH_LIMIT, "job_type": job_type}
        if circuit_id:
            params["circuit_id"] = circuit_id
        path, items = self._job_items(experiment_id, params)
        for item in items:
            if isinstance(item, dict) and token in str(item.get("description") or ""):
                return self._submitted(item, defaults, f"GET {path}")
        return None

    def get_job(self, job_id: str) -> RunJob | BaseJob:
        """A job by id: a :class:`RunJob` (or :class:`HybridJob`) for run jobs, else a
        :class:`BaseJob`."""
        path = f"/jobs/{_seg(job_id, 'job id')}"
        return self._job(self._send("GET", path, idempotent=True), "GET", path)

    def cancel_job(self, job_id: str) -> RunJob | BaseJob:
        """Ask the service to cancel a job (``POST /jobs/{id}/cancel``).

        Returns:
            The job as the service answered: the full run job when the reply holds one
            (a job that finished meanwhile comes back ``Done`` with its results), else the
            common fields only (a :class:`BaseJob`).
        """
        path = f"/jobs/{_seg(job_id, 'job id')}/cancel"
        response = self._send("POST", path, body=b"null", idempotent=True)
        return self._job(response, "POST", path, partial=True)

    def _job(
        self, response: httpx.Response, method: str, path: str, *, partial: bool = False
    ) -> RunJob | BaseJob:
        try:
            job, odd = read_job(_loads(response.content), partial=partial)
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
        path = f"/experiments/{_seg(experiment_id, 'experiment id')}/jobs"
        response = self._send("GET", path, params=params, idempotent=True)
        try:
            items = orjson.loads(response.content)
        except orjson.JSONDecodeError:
            items = None
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
        items = _loads(response.content)
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
        return self._get(Device, f"/devices/{_seg(device_id, 'device id')}")


def _run_route_missing(error: HaiquHTTPStatusError) -> HaiquHTTPStatusError:
    """``error``, its message saying that ``POST /run`` is gone and what to use instead."""
    error.message = (
        f"POST /run -> {error.status_code}: the service has no POST /run route (haiqu-sdk "
        "1.7.0 deprecated it), and this client was told to use only that route. Submit with "
        "HaiquClient(route='flow') or route='auto' (or set HAIQU_ROUTE=flow); no job was "
        "created."
    )
    error.args = (error.message,)
    return error


def _chosen_key(api_key: str | None) -> str:
    """``api_key``, else ``$HAIQU_API_KEY``; refuse when there is neither."""
    key = api_key or os.environ.get("HAIQU_API_KEY")
    if not key:
        raise HaiquConfigurationError(
            "No Haiqu API key: pass HaiquClient(api_key=...) or set the HAIQU_API_KEY "
            "environment variable (or use url='local' for the embedded emulator)."
        )
    return key


def _root_url(url: str, allow_insecure: bool) -> str:
    """``scheme://host[:port]`` of ``url``: the SDK serves every endpoint at the host root."""
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, TypeError) as exc:
        raise HaiquConfigurationError(f"Invalid API URL {redact(url)!r}: {exc}") from None
    if parsed.scheme not in ("http", "https") or not parsed.host:
        raise HaiquConfigurationError(
            f"Invalid API URL {redact(url)!r}: use http(s)://host[:port]."
        )
    if parsed.scheme == "http" and not allow_insecure and not _is_loopback(parsed.host):
        raise HaiquConfigurationError(
            f"Refusing plain http:// to {parsed.host}: the API key would cross the network "
            "in clear. Use https://, or pass allow_insecure=True if you really mean it."
        )
    port = f":{parsed.port}" if parsed.port else ""
    host = f"[{parsed.host}]" if ":" in parsed.host else parsed.host
    return f"{parsed.scheme}://{host}{port}"


def _loads(content: bytes) -> Any:
    """The decoded JSON of a body, or ``None`` when it is not JSON."""
    try:
        return orjson.loads(content)
    except orjson.JSONDecodeError:
        return None


def _seg(value: str, what: str) -> str:
    """One URL path segment, quoted.

    Raises:
        HaiquInputError: ``value`` is blank, ``.`` or ``..``, which would change the path
            (``GET /jobs/..`` is ``GET /``), or not a string.
    """
    if not isinstance(value, str) or not value.strip() or value in (".", ".."):
        raise HaiquInputError(
            f"{what} {str(value)[:80]!r} is not a valid id: ids are non-empty strings and "
            "never '.' or '..'. Pass the id the service returned (or the device's name)."
        )
    return quote(value, safe="")


def _describe_detail(detail: Any) -> str:
    """A readable form of an error body (FastAPI's 422 list becomes ``loc: msg`` lines)."""
    if isinstance(detail, list):
        parts = []
        for item in detail[:10]:
            if isinstance(item, dict) and "msg" in item:
                loc = " -> ".join(str(p) for p in item.get("loc", []))
                parts.append(f"{loc}: {item['msg']}" if loc else str(item["msg"]))
            else:
                parts.append(str(item))
        return "; ".join(parts)
    if isinstance(detail, dict):
        return str(detail.get("message") or detail)
    return "no detail" if detail in (None, "") else str(detail)
