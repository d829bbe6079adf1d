"""HaiquClient: a thin, typed client of the Haiqu REST API on ``httpx.Client``.

Endpoints are served at the root of the URL's host, as the official SDK builds them (any
path in the URL is dropped). Idempotent requests are retried on 429/502/503/504 and
connection failures with exponential back-off and jitter, honouring ``Retry-After``, within
a time budget. ``POST /run`` is never blindly retried: each submission carries a unique
token in its description, and after an ambiguous failure (the request may have reached the
server) the experiment's jobs are searched for that token before anything is resubmitted.

The API key is sent in the ``authorization`` header (or, with ``auth="query"``, as the
``HAIQU_API_KEY`` query parameter) and never appears in a message, repr or log line.
"""

from __future__ import annotations

import ipaddress
import logging
import os
import time
import uuid
from collections.abc import Mapping
from types import TracebackType
from typing import Any, Literal, TypeVar
from urllib.parse import quote

import httpx
import orjson
from pydantic import BaseModel, TypeAdapter, ValidationError

from qiskit_haiqu._version import __version__
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
from qiskit_haiqu.api.redact import install_log_redaction, mask_key, redact, redact_data
from qiskit_haiqu.api.retry import RetryPolicy, parse_retry_after
from qiskit_haiqu.errors import (
    AuthenticationError,
    HaiquConfigurationError,
    HaiquConnectionError,
    HaiquError,
    HaiquHTTPStatusError,
    HaiquInvalidResponseError,
    InsufficientCreditsError,
    NotFoundError,
    OutdatedClientError,
    RateLimitedError,
    RequestValidationError,
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

ModelT = TypeVar("ModelT", bound=BaseModel)
_JOB_LIST = TypeAdapter(list[dict[str, Any]])


class _Ambiguous(Exception):
    """A ``POST /run`` whose fate is unknown: it may or may not have created a job."""

    def __init__(self, error: HaiquError) -> None:
        super().__init__(str(error))
        self.error = error


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
    ) -> None:
        """Create a client.

        Args:
            url: API URL; else ``$HAIQU_API_URL``; else ``https://api.haiqu.ai/``.
                ``"local"`` starts an embedded emulator for the life of the client.
            api_key: API key; else ``$HAIQU_API_KEY``.
            auth: ``"header"`` sends ``authorization: <key>``; ``"query"`` sends the
                ``HAIQU_API_KEY`` query parameter the API reference documents.
            timeout: HTTP timeout in seconds (connect 10 s, read 60 s by default). It bounds
                one request; waiting for a job has its own timeout.
            retry: Retry policy of idempotent requests.
            http_client: An ``httpx.Client`` to send through (its base URL is ignored).
            transport: An ``httpx`` transport for the client this object creates.
            allow_insecure: Allow plain ``http://`` to a host other than this machine.

        Raises:
            HaiquConfigurationError: no key, an unusable URL, or plain HTTP to a remote host.
        """
        self._server: Any = None
        chosen = url or os.environ.get("HAIQU_API_URL") or DEFAULT_URL
        if chosen.strip().lower() == "local":
            from qiskit_haiqu.emulator.embedded import start_embedded

            self._server = start_embedded()
            chosen = self._server.url
            api_key = api_key or os.environ.get("HAIQU_API_KEY") or "local"
        key = api_key or os.environ.get("HAIQU_API_KEY")
        if not key:
            self._stop_server()
            raise HaiquConfigurationError(
                "No Haiqu API key: pass HaiquClient(api_key=...) or set the HAIQU_API_KEY "
                "environment variable (or use url='local' for the embedded emulator)."
            )
        if auth not in ("header", "query"):
            self._stop_server()
            raise HaiquConfigurationError(f"auth must be 'header' or 'query', not {auth!r}.")
        self._key = key
        self._auth = auth
        install_log_redaction()
        self.base_url = self._root_url(chosen, allow_insecure)
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
        }
        if auth == "header":
            self._headers["authorization"] = key

    @classmethod
    def local(cls, **kwargs: Any) -> HaiquClient:
        """A client on an embedded emulator, started on a free loopback port, stopped on close."""
        return cls(url="local", **kwargs)

    def _root_url(self, url: str, allow_insecure: bool) -> str:
        try:
            parsed = httpx.URL(url)
        except (httpx.InvalidURL, TypeError) as exc:
            self._stop_server()
            raise HaiquConfigurationError(f"Invalid API URL {redact(url)!r}: {exc}") from None
        if parsed.scheme not in ("http", "https") or not parsed.host:
            self._stop_server()
            raise HaiquConfigurationError(
                f"Invalid API URL {redact(url)!r}: use http(s)://host[:port]."
            )
        if parsed.scheme == "http" and not allow_insecure and not _is_loopback(parsed.host):
            self._stop_server()
            raise HaiquConfigurationError(
                f"Refusing plain http:// to {parsed.host}: the API key would cross the network "
                "in clear. Use https://, or pass allow_insecure=True if you really mean it."
            )
        port = f":{parsed.port}" if parsed.port else ""
        host = f"[{parsed.host}]" if ":" in parsed.host else parsed.host
        return f"{parsed.scheme}://{host}{port}"

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
            f"api_key={mask_key(self._key)!r})"
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
        raise :class:`_Ambiguous`.
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
                raise _Ambiguous(error)
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
            return RequestValidationError(
                f"{where}: the server refused the request: {text}", **kwargs
            )
        if status == 426:
            message = detail.get("message") if isinstance(detail, dict) else text
            return OutdatedClientError(
                f"{where}: {message} Upgrade with: pip install --upgrade qiskit-haiqu",
                **kwargs,
            )
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

    def _parse(
        self, model: type[ModelT], response: httpx.Response, method: str, path: str
    ) -> ModelT:
        try:
            return model.model_validate(orjson.loads(response.content))
        except orjson.JSONDecodeError:
            problem = "the body is not JSON"
        except ValidationError as exc:
            problem = "; ".join(
                f"{'.'.join(map(str, e['loc'])) or 'body'}: {e['msg']}" for e in exc.errors()[:5]
            )
        raise HaiquInvalidResponseError(
            f"{method} {path}: the server's answer is not a valid {model.__name__} ({problem}). "
            "The server may be newer or older than this client; upgrade qiskit-haiqu or "
            "report it.",
            method=method,
            url=self.base_url + path,
        )

    def _get(
        self, model: type[ModelT], path: str, params: Mapping[str, Any] | None = None
    ) -> ModelT:
        return self._parse(
            model, self._send("GET", path, params=params, idempotent=True), "GET", path
        )

    def _post(self, model: type[ModelT], path: str, payload: Any, *, idempotent: bool) -> ModelT:
        body = orjson.dumps(payload, option=orjson.OPT_SERIALIZE_NUMPY)
        response = self._send_definite("POST", path, body, idempotent)
        return self._parse(model, response, "POST", path)

    def _send_definite(
        self, method: str, path: str, body: bytes, idempotent: bool
    ) -> httpx.Response:
        try:
            return self._send(method, path, body=body, idempotent=idempotent)
        except _Ambiguous as ambiguous:
            error = ambiguous.error
        raise error

    # -- endpoints -------------------------------------------------------------------------

    def version(self) -> str:
        """The API version (``GET /version``, needs no key)."""
        return self._get(VersionInfo, "/version").version

    def init_experiment(self, name: str, description: str = "") -> Experiment:
        """Get or create the experiment called ``name`` (``POST /experiments/init``)."""
        body = ExperimentSubmit(name=name, description=description).model_dump()
        return self._post(Experiment, "/experiments/init", body, idempotent=True)

    def get_experiment(self, experiment_id: str) -> Experiment:
        """An experiment by id."""
        return self._get(Experiment, f"/experiments/{_seg(experiment_id)}")

    def upload_circuit(self, circuit: CircuitSubmit) -> Circuit:
        """Store a circuit (``POST /circuits``)."""
        return self._post(Circuit, "/circuits", circuit.model_dump(), idempotent=False)

    def get_circuit(self, circuit_id: str) -> Circuit:
        """A stored circuit by id."""
        return self._get(Circuit, f"/circuits/{_seg(circuit_id)}")

    def find_circuit(self, experiment_id: str, circuit_hash: str) -> Circuit | None:
        """The circuit with ``circuit_hash`` in the experiment, or ``None`` when it has none."""
        path = f"/experiments/{_seg(experiment_id)}/circuits/{_seg(circuit_hash)}"
        try:
            return self._get(Circuit, path)
        except NotFoundError:
            return None

    def submit_run(self, body: RunSubmit) -> RunJob:
        """Submit a run (``POST /run``) exactly once.

        ``body`` may be built with ``RunSubmit.model_construct`` holding numpy arrays; it
        is serialised as it is, without re-validation. A unique token is appended to the
        description; if the reply is lost, the experiment's jobs are searched for it, and
        the run is resubmitted (once) only when no job carries it.
        """
        token = f"{TOKEN_PREFIX}{uuid.uuid4().hex}]"
        fields = dict(body.__dict__)
        if fields.get("readout_bases") is None:
            fields.pop("readout_bases", None)
        user_text = str(fields.get("description") or "")
        room = _DESCRIPTION_MAX - len(token) - 1
        fields["description"] = f"{user_text[:room]} {token}".lstrip()
        payload = orjson.dumps(fields, option=orjson.OPT_SERIALIZE_NUMPY)
        experiment_id = str(fields["experiment_id"])
        for attempt in range(2):
            try:
                response = self._send("POST", "/run", body=payload, idempotent=False)
            except _Ambiguous as ambiguous:
                logger.warning(
                    "POST /run: the reply was lost (%s); looking for the job before resubmitting",
                    type(ambiguous.error).__name__,
                )
                found = self._find_submitted(experiment_id, token)
                if found is not None:
                    logger.info("POST /run: found the submitted job %s", found.id)
                    return found
                if attempt == 1:
                    raise ambiguous.error from None
                continue
            return self._parse(RunJob, response, "POST", "/run")
        raise AssertionError("unreachable")  # pragma: no cover

    def _find_submitted(self, experiment_id: str, token: str) -> RunJob | None:
        for pause in (0.0, 0.5, 1.5):
            time.sleep(pause)
            for job in self.list_jobs(experiment_id, limit=50, job_type="Run"):
                if isinstance(job, RunJob) and token in (job.description or ""):
                    return job
        return None

    def get_job(self, job_id: str) -> RunJob | BaseJob:
        """A job by id: a :class:`RunJob` for run jobs, else a :class:`BaseJob`."""
        path = f"/jobs/{_seg(job_id)}"
        response = self._send("GET", path, idempotent=True)
        return self._job_from(response.content, "GET", path)

    def _job_from(self, content: bytes, method: str, path: str) -> RunJob | BaseJob:
        try:
            data = orjson.loads(content)
        except orjson.JSONDecodeError:
            data = None
        model: type[RunJob] | type[BaseJob] = (
            RunJob if isinstance(data, dict) and data.get("job_type") == "Run" else BaseJob
        )
        try:
            return model.model_validate(data)
        except ValidationError as exc:
            problem = "; ".join(
                f"{'.'.join(map(str, e['loc'])) or 'body'}: {e['msg']}" for e in exc.errors()[:5]
            )
        raise HaiquInvalidResponseError(
            f"{method} {path}: the server's answer is not a valid job ({problem}). Upgrade "
            "qiskit-haiqu or report it.",
            method=method,
            url=self.base_url + path,
        )

    def cancel_job(self, job_id: str) -> BaseJob:
        """Ask the service to cancel a job (``POST /jobs/{id}/cancel``)."""
        path = f"/jobs/{_seg(job_id)}/cancel"
        return self._post(BaseJob, path, None, idempotent=True)

    def list_jobs(
        self,
        experiment_id: str,
        *,
        limit: int | None = 10,
        job_type: str | None = None,
        circuit_id: str | None = None,
    ) -> list[RunJob | BaseJob]:
        """Recent jobs of an experiment, newest first."""
        params = {
            k: v
            for k, v in (("limit", limit), ("job_type", job_type), ("circuit_id", circuit_id))
            if v is not None
        }
        path = f"/experiments/{_seg(experiment_id)}/jobs"
        response = self._send("GET", path, params=params, idempotent=True)
        try:
            items = _JOB_LIST.validate_json(response.content)
        except ValidationError:
            raise HaiquInvalidResponseError(
                f"GET {path}: the server's answer is not a list of jobs.",
                method="GET",
                url=self.base_url + path,
            ) from None
        return [self._job_from(orjson.dumps(item), "GET", path) for item in items]

    def list_devices(self) -> list[Device]:
        """The devices this account can use."""
        response = self._send("GET", "/devices", idempotent=True)
        try:
            return TypeAdapter(list[Device]).validate_json(response.content)
        except ValidationError:
            raise HaiquInvalidResponseError(
                "GET /devices: the server's answer is not a list of devices.",
                method="GET",
                url=self.base_url + "/devices",
            ) from None

    def get_device(self, device_id: str) -> Device:
        """A device by id (404 for an unknown one)."""
        return self._get(Device, f"/devices/{_seg(device_id)}")


def _seg(value: str) -> str:
    """One URL path segment, quoted."""
    return quote(str(value), safe="")


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
