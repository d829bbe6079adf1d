"""The emulator's HTTP API: the Haiqu endpoints of ``haiqu-api.md`` §3, plus test controls.

Runs are submitted to ``POST /run`` or, as a hybrid program, to ``POST /flow`` (§14), which
answers ``Hybrid`` jobs; with ``run_route="retired"`` there is no ``POST /run`` at all.

Authentication: the key in the ``authorization`` header (raw, as the SDK sends it) or in the
``HAIQU_API_KEY`` query parameter; ``GET /version`` needs none. Refusals use FastAPI's
shapes: 401/404 ``{"detail": str}``, 422 ``{"detail": [{"loc", "msg", "type"}]}``.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Depends, FastAPI, Header, HTTPException, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from pydantic import BaseModel, Field, ValidationError
from starlette.background import BackgroundTask

from qiskit_haiqu.api.models import (
    BaseJob,
    Circuit,
    CircuitSubmit,
    Cost,
    Device,
    Experiment,
    ExperimentSubmit,
    HybridJob,
    HybridSubmit,
    JobStatus,
    JobType,
    RunJob,
    RunSubmit,
    User,
    VersionInfo,
)
from qiskit_haiqu.emulator.controls import (
    CONTROL_PREFIX,
    ControlMiddleware,
    FaultRule,
    Faults,
    RequestLog,
    SdkGate,
    SdkGateRule,
)
from qiskit_haiqu.emulator.devices import DeviceCatalog
from qiskit_haiqu.emulator.flow import (
    hybrid_job,
    job_json,
    locate,
    parse_hybrid_submit,
    run_request,
)
from qiskit_haiqu.emulator.jobs import JobRunner
from qiskit_haiqu.emulator.metrics import circuit_analytics
from qiskit_haiqu.emulator.settings import EmulatorSettings
from qiskit_haiqu.emulator.simulate import RunPlan, Simulator, decode_circuit, estimate_cost
from qiskit_haiqu.emulator.state import USER_ID, CircuitRecord, EmulatorState, new_id, utcnow
from qiskit_haiqu.emulator.validation import (
    InvalidRequest,
    build_plan,
    error,
    parse_run_submit,
    pydantic_errors,
)

__all__ = ["create_app"]

_LOG = logging.getLogger(__name__)
_JSON = "application/json"


class ExperimentUpdate(BaseModel):
    """Body of ``PUT /experiments/{id}``."""

    name: str | None = Field(default=None, min_length=1, max_length=200)
    description: str | None = None


def _json(content: Any, status_code: int = 200) -> Response:
    """A JSON response of a wire model, a list of them, or plain data."""
    if isinstance(content, BaseModel):
        body = _model_json(content)
    elif isinstance(content, list) and content and isinstance(content[0], BaseModel):
        # pydantic's own JSON: client-sent data (e.g. metrics) may hold integers orjson refuses
        body = b"[" + b",".join(_model_json(item) for item in content) + b"]"
    else:
        body = orjson.dumps(content)
    return Response(content=body, status_code=status_code, media_type=_JSON)


def _model_json(model: BaseModel) -> bytes:
    """A wire model's JSON (a job as its type carries it on the wire)."""
    return job_json(model) if isinstance(model, RunJob) else model.model_dump_json().encode()


def _not_found(what: str) -> HTTPException:
    return HTTPException(status_code=404, detail=f"{what} not found.")


def create_app(settings: EmulatorSettings | None = None) -> FastAPI:
    """Build the emulator's ASGI application.

    Args:
        settings: Keys, faults, job pacing and limits (defaults: any key, no faults).
    """
    settings = settings or EmulatorSettings()
    state = EmulatorState(settings.max_finished_jobs, wire=job_json)
    catalog = DeviceCatalog(settings.max_statevector_qubits)
    runner = JobRunner(
        state,
        Simulator(catalog),
        max_workers=settings.max_workers,
        min_job_seconds=settings.min_job_seconds,
    )
    log = RequestLog(settings.max_logged_requests)
    faults = Faults() if settings.enable_faults else None
    gate = SdkGate() if settings.enable_faults else None

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        runner.shutdown()

    app = FastAPI(
        title="Haiqu API (local emulator)",
        version=settings.version,
        lifespan=lifespan,
        default_response_class=Response,
    )
    app.state.settings = settings
    app.state.store = state
    app.state.runner = runner
    app.state.catalog = catalog
    app.state.request_log = log
    app.state.faults = faults
    app.add_middleware(
        ControlMiddleware,
        log=log,
        faults=faults,
        gate=gate,
        max_body_bytes=settings.max_body_bytes,
    )
    _install_error_handlers(app)

    async def require_key(
        authorization: Annotated[str | None, Header()] = None,
        query_key: Annotated[str | None, Query(alias="HAIQU_API_KEY")] = None,
    ) -> None:
        """Accept the key from the header or the query parameter."""
        if settings.accepts_key(authorization) or settings.accepts_key(query_key):
            return
        raise HTTPException(status_code=401, detail="Invalid or missing API key.")

    @app.get("/version", response_model=VersionInfo, tags=["meta"])
    async def version() -> Response:
        """The API version (no key needed)."""
        return _json(VersionInfo(version=settings.version))

    api = APIRouter(dependencies=[Depends(require_key)])
    _add_account_routes(api, state)
    _add_experiment_routes(api, state)
    _add_circuit_routes(api, state)
    _add_job_routes(api, state, catalog, runner, settings)
    _add_device_routes(api, catalog)
    app.include_router(api)
    app.include_router(_control_router(log, faults, gate))
    _document_bodies(app, (RunSubmit, HybridSubmit))
    return app


def _document_bodies(app: FastAPI, models: Sequence[type[BaseModel]]) -> None:
    """Put the schemas of bodies read by hand (``/run``, ``/flow``) into the OpenAPI schema."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = generate()
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        for model in models:
            body = model.model_json_schema(ref_template="#/components/schemas/{model}")
            components.update(body.pop("$defs", {}))
            components[model.__name__] = body
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(RequestValidationError)
    async def request_invalid(_: Request, exc: RequestValidationError) -> Response:
        detail = [
            error(tuple(item.get("loc", ())), str(item.get("msg", "")), str(item.get("type", "")))
            for item in exc.errors()
        ]
        return _json({"detail": detail}, 422)

    @app.exception_handler(InvalidRequest)
    async def run_invalid(_: Request, exc: InvalidRequest) -> Response:
        return _json({"detail": exc.errors}, exc.status_code)

    @app.exception_handler(Exception)
    async def unexpected(_: Request, exc: Exception) -> Response:
        # Last resort only: inputs are validated explicitly before they reach this point.
        _LOG.exception("unexpected error in the emulator")
        return _json({"detail": f"Internal emulator error: {type(exc).__name__}."}, 500)


def _add_account_routes(api: APIRouter, state: EmulatorState) -> None:
    @api.get("/health/auth", tags=["meta"])
    async def health_auth() -> Response:
        """Check the key."""
        return _json({"username": "emulator"})

    @api.get("/user", response_model=User, tags=["meta"])
    async def user() -> Response:
        """The current user (its key is a redacted placeholder)."""
        return _json(state.get_user())


def _add_experiment_routes(api: APIRouter, state: EmulatorState) -> None:
    @api.post("/experiments/init", response_model=Experiment, tags=["experiments"])
    def init_experiment(body: ExperimentSubmit) -> Response:
        """Get the experiment with this name (or id), or create it."""
        return _json(state.init_experiment(body.name, body.description, body.tags, body.metrics))

    @api.post("/experiments", response_model=Experiment, tags=["experiments"])
    def create_experiment(body: ExperimentSubmit) -> Response:
        """Create an experiment."""
        return _json(state.create_experiment(body.name, body.description, body.tags, body.metrics))

    @api.get("/experiments", response_model=list[Experiment], tags=["experiments"])
    def list_experiments(name: str | None = None) -> Response:
        """All experiments, optionally only those with this name."""
        return _json(state.list_experiments(name))

    @api.get("/experiments/{experiment_id}", response_model=Experiment, tags=["experiments"])
    async def get_experiment(experiment_id: str) -> Response:
        """One experiment."""
        experiment = state.get_experiment(experiment_id)
        if experiment is None:
            raise _not_found("Experiment")
        return _json(experiment)

    @api.put("/experiments/{experiment_id}", response_model=Experiment, tags=["experiments"])
    def update_experiment(experiment_id: str, body: ExperimentUpdate) -> Response:
        """Rename or re-describe an experiment."""
        changes = body.model_dump(exclude_none=True)
        experiment = state.update_experiment(experiment_id, **changes)
        if experiment is None:
            raise _not_found("Experiment")
        return _json(experiment)


def _add_circuit_routes(api: APIRouter, state: EmulatorState) -> None:
    @api.post("/circuits", response_model=Circuit, tags=["circuits"])
    def submit_circuit(body: CircuitSubmit) -> Response:
        """Store a circuit (base64 QPY of exactly one circuit)."""
        if state.get_experiment(body.experiment_id) is None:
            raise InvalidRequest(
                [error(("body", "experiment_id"), "Unknown experiment id.", "not_found")]
            )
        try:
            circuit = decode_circuit(body.qpy_dump)
        except ValueError as exc:
            raise InvalidRequest([error(("body", "qpy_dump"), str(exc))]) from None
        model = Circuit(
            id=new_id("circ"),
            hash=body.hash,
            name=body.name or circuit.name,
            creation_date=utcnow(),
            user_id=USER_ID,
            experiment_id=body.experiment_id,
            status="Done",
            generated=False,
            description=body.description,
            tags=body.tags,
            parameters={
                "names": [p.name for p in circuit.parameters],
                "count": circuit.num_parameters,
            },
            analytics=circuit_analytics(circuit),
            job_ids=[],
            qpy=body.qpy_dump,
            metrics=body.metrics,
        )
        state.add_circuit(CircuitRecord(model, circuit))
        return _json(model)

    @api.get("/circuits/{circuit_id}", response_model=Circuit, tags=["circuits"])
    async def get_circuit(circuit_id: str) -> Response:
        """One circuit, with its QPY."""
        record = state.get_circuit(circuit_id)
        if record is None:
            raise _not_found("Circuit")
        return _json(record.model)

    @api.get(
        "/experiments/{experiment_id}/circuits/{circuit_hash}",
        response_model=Circuit,
        tags=["circuits"],
    )
    async def circuit_by_hash(experiment_id: str, circuit_hash: str) -> Response:
        """The circuit registered with this hash in the experiment (404: none)."""
        if state.get_experiment(experiment_id) is None:
            raise _not_found("Experiment")
        record = state.circuit_by_hash(experiment_id, circuit_hash)
        if record is None:
            raise _not_found("Circuit with this hash in this experiment")
        return _json(record.model)

    @api.get(
        "/experiments/{experiment_id}/circuits",
        response_model=list[Circuit],
        tags=["circuits"],
    )
    def list_circuits(
        experiment_id: str,
        limit: Annotated[int | None, Query(ge=1, le=100_000)] = None,
        circuit_ids: Annotated[list[str] | None, Query()] = None,
        job_type: str | None = None,
    ) -> Response:
        """An experiment's circuits (without their QPY), oldest first."""
        if state.get_experiment(experiment_id) is None:
            raise _not_found("Experiment")
        records = state.list_circuits(experiment_id)
        if circuit_ids:
            wanted = set(circuit_ids)
            records = [r for r in records if r.model.id in wanted]
        if limit is not None:
            records = records[:limit]
        return _json([r.model.model_copy(update={"qpy": None}) for r in records])


def _add_job_routes(
    api: APIRouter,
    state: EmulatorState,
    catalog: DeviceCatalog,
    runner: JobRunner,
    settings: EmulatorSettings,
) -> None:
    def start(job: RunJob, plan: RunPlan) -> Response:
        """Store a new job and answer it; run it once answered (a dry run ends at once)."""
        if job.dry_run:
            now = job.creation_date
            job = job.model_copy(
                update={
                    "status": JobStatus.DONE.value,
                    "quantum_results": [],
                    "info": {},
                    "estimated_qpu_cost": Cost.model_validate(estimate_cost(plan)),
                    "run_date": now,
                    "finish_date": now,
                    "time": 0.0,
                }
            )
        state.add_job(job)
        response = _json(job)
        if not job.dry_run:
            # Started once the reply is sent: Aer holds the GIL while it prepares a run, and
            # would otherwise delay the reply by the simulation time.
            response.background = BackgroundTask(runner.submit, job.id, plan)
        return response

    def plan_of(request: RunSubmit) -> RunPlan:
        return build_plan(request, state=state, catalog=catalog, settings=settings)

    def submit(body: bytes) -> Response:
        request = parse_run_submit(body)
        plan = plan_of(request)
        echo = request.model_dump(mode="json")
        job = RunJob(
            id=new_id("jb"),
            user_id=USER_ID,
            experiment_id=request.experiment_id,
            status=JobStatus.SUBMITTED.value,
            job_type=JobType.RUN.value,
            device_id=plan.device_id,
            creation_date=utcnow(),
            circuit_ids=list(request.circuit_ids),
            shots=request.shots,
            options=request.options,
            use_mitigation=request.use_mitigation,
            dry_run=bool(request.dry_run),
            run_type=echo["run_type"] or "Run",
            name=request.name,
            description=request.description,
            parameters=request.parameters,
            observables=echo["observables"],
            readout_bases=request.readout_bases,
        )
        return start(job, plan)

    def submit_flow(body: bytes) -> Response:
        hybrid = parse_hybrid_submit(body)
        try:
            plan = plan_of(run_request(hybrid))
        except InvalidRequest as exc:
            raise InvalidRequest(locate(exc.errors, hybrid), exc.status_code) from None
        return start(hybrid_job(hybrid, plan.device_id), plan)

    if settings.run_route == "available":

        @api.post(
            "/run",
            response_model=RunJob,
            tags=["jobs"],
            openapi_extra={
                "requestBody": {
                    "required": True,
                    "content": {_JSON: {"schema": {"$ref": "#/components/schemas/RunSubmit"}}},
                }
            },
        )
        async def run(request: Request) -> Response:
            """Validate a run, create its job and start it (numbers must be JSON numbers)."""
            body = await request.body()
            return await run_in_threadpool(submit, body)

    @api.post(
        "/flow",
        response_model=HybridJob,
        tags=["jobs"],
        openapi_extra={
            "requestBody": {
                "required": True,
                "content": {_JSON: {"schema": {"$ref": "#/components/schemas/HybridSubmit"}}},
            }
        },
    )
    async def flow(request: Request) -> Response:
        """Validate a hybrid program, create its Hybrid job and start it (as ``/run`` would)."""
        body = await request.body()
        return await run_in_threadpool(submit_flow, body)

    @api.get("/jobs/{job_id}", response_model=RunJob, tags=["jobs"])
    async def get_job(job_id: str) -> Response:
        """One job, with its results once ``Done``."""
        record = state.get_job(job_id)
        if record is None:
            if state.job_expired(job_id):
                raise HTTPException(
                    status_code=404,
                    detail=f"Job {job_id} expired: this emulator keeps the "
                    f"{settings.max_finished_jobs} most recent finished jobs "
                    "(max_finished_jobs; --max-finished-jobs).",
                )
            raise _not_found("Job")
        return Response(content=state.job_json(record.model), media_type=_JSON)

    @api.post("/jobs/{job_id}/cancel", response_model=BaseJob, tags=["jobs"])
    def cancel_job(job_id: str) -> Response:
        """Cancel a job that is not final; a final job is returned unchanged."""
        job = runner.cancel(job_id)
        if job is None:
            raise _not_found("Job")
        return _json(job)

    @api.get("/experiments/{experiment_id}/jobs", response_model=list[RunJob], tags=["jobs"])
    def list_jobs(
        experiment_id: str,
        job_type: str | None = None,
        limit: Annotated[int, Query(ge=1, le=10_000)] = 10,
        circuit_id: str | None = None,
    ) -> Response:
        """An experiment's jobs, newest first."""
        if state.get_experiment(experiment_id) is None:
            raise _not_found("Experiment")
        if circuit_id is not None and state.get_circuit(circuit_id) is None:
            raise _not_found("Circuit")
        jobs = state.list_jobs(experiment_id, job_type=job_type, circuit_id=circuit_id, limit=limit)
        body = b"[" + b",".join(state.job_json(job) for job in jobs) + b"]"
        return Response(content=body, media_type=_JSON)


def _add_device_routes(api: APIRouter, catalog: DeviceCatalog) -> None:
    @api.get("/devices", response_model=list[Device], tags=["devices"])
    def list_devices() -> Response:
        """Every device (fake devices are loaded on first use, which takes a moment)."""
        return _json([catalog.model(device_id) for device_id in catalog.ids()])

    @api.get("/devices/{device_id}", response_model=Device, tags=["devices"])
    def get_device(device_id: str) -> Response:
        """One device (404: unknown)."""
        if catalog.spec(device_id) is None:
            raise _not_found("Device")
        return _json(catalog.model(device_id))


def _control_router(log: RequestLog, faults: Faults | None, gate: SdkGate | None) -> APIRouter:
    control = APIRouter(prefix=CONTROL_PREFIX.rstrip("/"), include_in_schema=False)

    @control.get("/requests")
    def requests_received() -> Response:
        """The log of API requests: ``[{"method", "path", "status", "fault", "sdk_version"}]``."""
        return _json(log.entries())

    @control.delete("/requests")
    def clear_requests() -> Response:
        """Forget the logged requests."""
        log.clear()
        return Response(status_code=204)

    def require_faults() -> Faults:
        if faults is None:
            raise HTTPException(status_code=404, detail="Not Found")
        return faults

    @control.get("/faults")
    def list_faults() -> Response:
        """The active fault rules."""
        return _json([rule.model_dump() for rule in require_faults().active()])

    @control.post("/faults")
    async def add_faults(request: Request) -> Response:
        """Add fault rules (a list of rules, or one rule)."""
        active = require_faults()
        try:
            data = orjson.loads(await request.body())
        except orjson.JSONDecodeError as exc:
            raise InvalidRequest(
                [error(("body",), f"Invalid JSON: {exc}", "json_invalid")]
            ) from None
        items: Sequence[Any] = data if isinstance(data, list) else [data]
        rules = []
        for index, item in enumerate(items):
            try:
                rules.append(FaultRule.model_validate(item))
            except ValidationError as exc:
                raise InvalidRequest(pydantic_errors(exc, ("body", index))) from None
        return _json([rule.model_dump() for rule in active.add(rules)])

    @control.delete("/faults")
    def clear_faults() -> Response:
        """Remove every fault rule."""
        require_faults().clear()
        return Response(status_code=204)

    _add_gate_routes(control, gate)
    return control


def _add_gate_routes(control: APIRouter, gate: SdkGate | None) -> None:
    """``/_emulator/sdk-gate``: the minimum ``haiqu-sdk-version`` (served with faults only)."""

    def require_gate() -> SdkGate:
        if gate is None:
            raise HTTPException(status_code=404, detail="Not Found")
        return gate

    @control.get("/sdk-gate")
    def sdk_gate() -> Response:
        """The minimum version required: ``{"min_version": str | null}``."""
        return _json({"min_version": require_gate().minimum()})

    @control.put("/sdk-gate")
    def set_sdk_gate(body: SdkGateRule) -> Response:
        """Answer 426 to requests whose ``haiqu-sdk-version`` is missing or below this."""
        require_gate().set(body.min_version)
        return _json({"min_version": body.min_version})

    @control.delete("/sdk-gate")
    def clear_sdk_gate() -> Response:
        """Accept any client again."""
        require_gate().set(None)
        return Response(status_code=204)
