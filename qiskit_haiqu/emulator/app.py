"""The emulator's HTTP API: the Haiqu endpoints the client and the official SDK use."""

from __future__ import annotations

import math
from typing import Annotated, Any, NoReturn

import numpy as np
from fastapi import Body, Depends, FastAPI, Header, HTTPException, Query, Request
from fastapi.responses import JSONResponse, Response
from qiskit.circuit import QuantumCircuit

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
from qiskit_haiqu.emulator.devices import DEVICES, EmulatedDevice, device_by_id
from qiskit_haiqu.emulator.faults import (
    CONTROL_PREFIX,
    ControlMiddleware,
    FaultRule,
    Faults,
    RequestLog,
)
from qiskit_haiqu.emulator.jobs import JobRunner
from qiskit_haiqu.emulator.settings import EmulatorSettings
from qiskit_haiqu.emulator.simulate import RunSpec, decode_qpy, estimate_cost
from qiskit_haiqu.emulator.state import USER, USER_ID, Store, new_id, now

__all__ = ["create_app"]

_PAULI = frozenset("IXYZ")
_QUBIT_LIMIT_MPS = 100


def _invalid(loc: list[str | int], message: str, status: int = 422) -> NoReturn:
    """Refuse a request with a FastAPI-style validation body."""
    raise HTTPException(
        status_code=status, detail=[{"loc": ["body", *loc], "msg": message, "type": "value_error"}]
    )


def create_app(settings: EmulatorSettings | None = None) -> Any:
    """The emulator's ASGI application (FastAPI behind the request log / fault middleware)."""
    settings = settings or EmulatorSettings()
    store = Store()
    runner = JobRunner(store, settings.max_workers, settings.min_job_seconds)
    log = RequestLog.empty()
    faults = Faults() if settings.enable_faults else None
    api = FastAPI(title="Haiqu API (qiskit-haiqu emulator)", version=__version__)
    api.state.store = store
    api.state.runner = runner

    def authenticate(
        authorization: Annotated[str | None, Header()] = None,
        haiqu_api_key: Annotated[str | None, Query(alias="HAIQU_API_KEY")] = None,
    ) -> None:
        key = authorization or haiqu_api_key
        if not key or (settings.api_keys and key not in settings.api_keys):
            raise HTTPException(status_code=401, detail="Invalid API key")

    auth = [Depends(authenticate)]

    @api.get("/version", response_model=VersionInfo)
    def version() -> dict[str, str]:
        return {"version": f"emulator-{__version__}"}

    @api.get("/health/auth", dependencies=auth)
    def health() -> dict[str, str]:
        return {"username": str(USER["username"])}

    @api.get("/user", dependencies=auth)
    def user() -> dict[str, Any]:
        return dict(USER)

    @api.post("/experiments/init", response_model=Experiment, dependencies=auth)
    def init_experiment(body: ExperimentSubmit) -> dict[str, Any]:
        return store.experiment(body.name, body.description, body.tags)

    @api.post("/experiments", response_model=Experiment, dependencies=auth)
    def create_experiment(body: ExperimentSubmit) -> dict[str, Any]:
        return store.experiment(body.name, body.description, body.tags)

    @api.get("/experiments", response_model=list[Experiment], dependencies=auth)
    def list_experiments(name: str | None = None) -> list[dict[str, Any]]:
        with store.lock:
            return [e for e in store.experiments.values() if name is None or e["name"] == name]

    def experiment_or_404(experiment_id: str) -> dict[str, Any]:
        experiment = store.experiments.get(experiment_id)
        if experiment is None:
            raise HTTPException(status_code=404, detail=f"Experiment {experiment_id} not found")
        return experiment

    @api.get("/experiments/{experiment_id}", response_model=Experiment, dependencies=auth)
    def get_experiment(experiment_id: str) -> dict[str, Any]:
        return experiment_or_404(experiment_id)

    @api.post("/circuits", response_model=Circuit, dependencies=auth)
    def submit_circuit(body: CircuitSubmit) -> dict[str, Any]:
        if body.experiment_id not in store.experiments:
            _invalid(["experiment_id"], f"Unknown experiment {body.experiment_id!r}")
        try:
            circuit = decode_qpy(body.qpy_dump)
        except Exception as exc:  # noqa: BLE001 - any decoding failure is the client's input
            _invalid(["qpy_dump"], f"Cannot load the QPY data: {type(exc).__name__}: {exc}")
        record = body.model_dump()
        record["qpy"] = body.qpy_dump
        return store.add_circuit(record, circuit)

    @api.get("/circuits/{circuit_id}", response_model=Circuit, dependencies=auth)
    def get_circuit(circuit_id: str) -> dict[str, Any]:
        stored = store.circuits.get(circuit_id)
        if stored is None:
            raise HTTPException(status_code=404, detail=f"Circuit {circuit_id} not found")
        return stored.record

    @api.get(
        "/experiments/{experiment_id}/circuits/{circuit_hash}",
        response_model=Circuit,
        dependencies=auth,
    )
    def circuit_by_hash(experiment_id: str, circuit_hash: str) -> dict[str, Any]:
        experiment_or_404(experiment_id)
        record = store.circuit_by_hash(experiment_id, circuit_hash)
        if record is None:
            raise HTTPException(status_code=404, detail="Circuit not registered in experiment")
        return record

    @api.get(
        "/experiments/{experiment_id}/circuits", response_model=list[Circuit], dependencies=auth
    )
    def list_circuits(experiment_id: str, limit: int = Query(100, ge=1, le=10_000)) -> list[Any]:
        experiment_or_404(experiment_id)
        with store.lock:
            found = [
                s.record for s in store.circuits.values()
                if s.record["experiment_id"] == experiment_id
            ]
        return found[-limit:][::-1]

    @api.get("/devices", response_model=list[Device], dependencies=auth)
    def list_devices() -> list[Device]:
        return [device.model() for device in DEVICES.values()]

    @api.get("/devices/{device_id}", response_model=Device, dependencies=auth)
    def get_device(device_id: str) -> Device:
        device = DEVICES.get(device_id)
        if device is None:
            raise HTTPException(status_code=404, detail=f"Device {device_id} not found")
        return device.model()

    @api.post("/run", response_model=RunJob, dependencies=auth)
    def run(body: RunSubmit) -> Response:
        device, spec = _validate_run(body, store, settings)
        job = _new_job(body, device)
        store.add_job(job)
        if body.dry_run:
            rows = sum(len(p) for p in spec.parameters) if spec.parameters else 1
            store.update_job(
                job["id"],
                status="Done",
                quantum_results=[],
                estimated_qpu_cost=estimate_cost(spec.circuits, spec.shots, rows),
                finish_date=now(),
            )
        else:
            runner.submit(job["id"], spec, device)
        return _job_response(store.snapshot(job["id"]) or job)

    @api.get("/jobs/{job_id}", dependencies=auth)
    def get_job(job_id: str) -> Response:
        job = store.snapshot(job_id)
        if job is None:
            raise HTTPException(status_code=404, detail=f"Job {job_id} not found")
        return _job_response(job)

    @api.post("/jobs/{job_id}/cancel", response_model=BaseJob, dependencies=auth)
    def cancel_job(job_id: str, _: Annotated[Any, Body()] = None) -> Response:
        if store.snapshot(job_id) is None:
            raise HTTPException(status_code=404, detail=f"Job {job_id} not found")
        store.update_job(job_id, status="Cancelled", finish_date=now())
        return _job_response(store.snapshot(job_id) or {})

    @api.get("/experiments/{experiment_id}/jobs", dependencies=auth)
    def list_jobs(
        experiment_id: str,
        limit: int = Query(10, ge=1, le=1000),
        job_type: str | None = None,
        circuit_id: str | None = None,
    ) -> Response:
        experiment_or_404(experiment_id)
        if circuit_id is not None and circuit_id not in store.circuits:
            raise HTTPException(status_code=404, detail=f"Circuit {circuit_id} not found")
        with store.lock:
            jobs = [
                dict(j) for j in store.jobs.values()
                if j["experiment_id"] == experiment_id
                and (job_type is None or j["job_type"] == job_type)
                and (circuit_id is None or circuit_id in j["circuit_ids"])
            ]
        jobs = jobs[::-1][:limit]
        return JSONResponse([RunJob.model_validate(j).model_dump(mode="json") for j in jobs])

    @api.exception_handler(ValueError)
    def value_error(_: Request, exc: ValueError) -> JSONResponse:
        return JSONResponse(
            status_code=422,
            content={"detail": [{"loc": ["body"], "msg": str(exc), "type": "value_error"}]},
        )

    _add_controls(api, log, faults)
    return ControlMiddleware(api, log, faults)


def _add_controls(api: FastAPI, log: RequestLog, faults: Faults | None) -> None:
    """The ``/_emulator`` test controls (left out of the OpenAPI schema)."""

    @api.get(f"{CONTROL_PREFIX}/requests", include_in_schema=False)
    def requests_log() -> list[dict[str, Any]]:
        return log.list()

    @api.delete(f"{CONTROL_PREFIX}/requests", include_in_schema=False)
    def clear_log() -> dict[str, str]:
        log.clear()
        return {"status": "cleared"}

    @api.post(f"{CONTROL_PREFIX}/faults", include_in_schema=False)
    def add_faults(rules: list[FaultRule]) -> dict[str, int]:
        if faults is None:
            raise HTTPException(status_code=404, detail="Fault injection is disabled")
        faults.add(rules)
        return {"added": len(rules)}

    @api.delete(f"{CONTROL_PREFIX}/faults", include_in_schema=False)
    def clear_faults() -> dict[str, str]:
        if faults is None:
            raise HTTPException(status_code=404, detail="Fault injection is disabled")
        faults.clear()
        return {"status": "cleared"}


def _job_response(job: dict[str, Any]) -> Response:
    """A job as JSON (validated through the wire model, so the shape stays the contract's)."""
    return JSONResponse(RunJob.model_validate(job).model_dump(mode="json"))


def _new_job(body: RunSubmit, device: EmulatedDevice) -> dict[str, Any]:
    return {
        "id": new_id("jb"),
        "user_id": USER_ID,
        "experiment_id": body.experiment_id,
        "status": "Submitted",
        "job_type": "Run",
        "device_id": device.id,
        "creation_date": now(),
        "circuit_ids": list(body.circuit_ids),
        "shots": body.shots,
        "options": body.options,
        "use_mitigation": body.use_mitigation,
        "dry_run": bool(body.dry_run),
        "run_type": body.run_type or "Run",
        "name": body.name,
        "description": body.description,
        "parameters": None,  # not echoed: rows can be large
        "observables": None,
        "quantum_results": None,
        "info": {},
        "logs": "",
    }


def _validate_run(
    body: RunSubmit, store: Store, settings: EmulatorSettings
) -> tuple[EmulatedDevice, RunSpec]:
    """Check a run request completely before any job exists; 422 on the first problem."""
    if body.experiment_id not in store.experiments:
        _invalid(["experiment_id"], f"Unknown experiment {body.experiment_id!r}")
    device = device_by_id(body.device_id or "")
    if device is None:
        _invalid(["device_id"], f"Unknown device {body.device_id!r}; see GET /devices")
    if not body.circuit_ids:
        _invalid(["circuit_ids"], "At least one circuit id is required")
    if len(body.circuit_ids) > settings.max_circuits_per_job:
        _invalid(
            ["circuit_ids"],
            f"At most {settings.max_circuits_per_job} circuits per job "
            f"({len(body.circuit_ids)} given)",
        )
    if body.shots > settings.max_shots:
        _invalid(["shots"], f"At most {settings.max_shots} shots per job")
    circuits: list[QuantumCircuit] = []
    for k, circuit_id in enumerate(body.circuit_ids):
        stored = store.circuits.get(circuit_id)
        if stored is None:
            _invalid(["circuit_ids", k], f"Unknown circuit id {circuit_id!r}")
        circuits.append(stored.circuit)
    options = dict(body.options or {})
    method = options.get("method")
    for k, circuit in enumerate(circuits):
        limit = _QUBIT_LIMIT_MPS if method == "matrix_product_state" else device.qubit_limit
        if body.run_type == "StatevectorRun":
            limit = min(limit, 20)
        if circuit.num_qubits > limit:
            _invalid(
                ["circuit_ids", k],
                f"Circuit has {circuit.num_qubits} qubits; {device.id} simulates at most "
                f"{limit} here (options.method='matrix_product_state' lifts the limit)",
            )
    parameters = _validate_parameters(body.parameters, circuits, settings)
    observables = _validate_observables(body.observables, circuits)
    if observables is None and body.run_type != "StatevectorRun":
        for k, circuit in enumerate(circuits):
            if circuit.num_clbits == 0:
                _invalid(
                    ["circuit_ids", k],
                    "Circuit has no classical bits and no observables were given: add "
                    "measurements or observables",
                )
    if body.options.get("emulator_key_format", "spaced") not in ("spaced", "joined", "hex"):
        _invalid(["options", "emulator_key_format"], "Must be 'spaced', 'joined' or 'hex'")
    if body.options.get("noise_model") and device.id != "aer_simulator":
        _invalid(["options", "noise_model"], "noise_model is accepted for aer_simulator only")
    spec = RunSpec(
        circuits=circuits,
        parameters=parameters,
        observables=observables,
        shots=body.shots,
        options=options,
        use_mitigation=bool(body.use_mitigation),
        run_type=body.run_type or "Run",
    )
    return device, spec


def _validate_parameters(
    raw: list[Any] | None, circuits: list[QuantumCircuit], settings: EmulatorSettings
) -> list[np.ndarray] | None:
    if raw is None:
        for k, circuit in enumerate(circuits):
            if circuit.num_parameters:
                _invalid(
                    ["parameters"],
                    f"Circuit {k} has {circuit.num_parameters} parameters but no values were "
                    "given",
                )
        return None
    groups = [raw] if len(circuits) == 1 and _depth(raw) == 2 else raw
    if len(groups) != len(circuits):
        _invalid(
            ["parameters"],
            f"Expected one group of rows per circuit ({len(circuits)}), got {len(groups)}",
        )
    arrays = []
    total = 0
    for k, (group, circuit) in enumerate(zip(groups, circuits, strict=True)):
        if not circuit.num_parameters:
            _invalid(["parameters", k], f"Circuit {k} has no parameters but values were given")
        try:
            rows = np.asarray(group, dtype=np.float64)
        except (TypeError, ValueError):
            _invalid(["parameters", k], "Parameter values must be numbers")
        if rows.ndim != 2 or rows.shape[0] == 0 or rows.shape[1] != circuit.num_parameters:
            _invalid(
                ["parameters", k],
                f"Each row must hold {circuit.num_parameters} values (got shape "
                f"{list(rows.shape)})",
            )
        if not np.isfinite(rows).all():
            _invalid(["parameters", k], "Parameter values must be finite")
        total += rows.shape[0]
        arrays.append(rows)
    if total > settings.max_parameter_rows:
        _invalid(["parameters"], f"At most {settings.max_parameter_rows} rows per job")
    return arrays


def _depth(value: Any) -> int:
    depth = 0
    while isinstance(value, list) and value:
        depth += 1
        value = value[0]
    return depth


def _validate_observables(
    raw: list[Any] | None, circuits: list[QuantumCircuit]
) -> list[list[tuple[list[str], list[float]]]] | None:
    if raw is None:
        return None
    if len(raw) != len(circuits):
        _invalid(["observables"], f"Expected one list per circuit ({len(circuits)}), got {len(raw)}")
    checked = []
    for k, (pairs, circuit) in enumerate(zip(raw, circuits, strict=True)):
        if not pairs:
            _invalid(["observables", k], "At least one observable per circuit is required")
        entry = []
        for j, pair in enumerate(pairs):
            labels, coeffs = list(pair[0]), list(pair[1])
            if not labels or len(labels) != len(coeffs):
                _invalid(["observables", k, j], "Labels and coefficients must pair up")
            for label in labels:
                if len(label) != circuit.num_qubits or not set(label) <= _PAULI:
                    _invalid(
                        ["observables", k, j],
                        f"Pauli string {label!r} must have {circuit.num_qubits} characters "
                        "from I, X, Y, Z",
                    )
            if not all(isinstance(c, int | float) and math.isfinite(c) for c in coeffs):
                _invalid(["observables", k, j], "Coefficients must be finite real numbers")
            entry.append((labels, [float(c) for c in coeffs]))
        checked.append(entry)
    return checked
