"""``POST /flow`` in the emulator: a hybrid program read back as the run it means.

The body is parsed strictly, its program checked against the SDK's rules, and its layers
mapped back to the ``POST /run`` request that means the same (device layer -> ``device_id``
and ``options``; mitigation layer -> ``use_mitigation`` and ``error_mitigation_options``;
packing layer -> ``use_packing`` / ``pack_size``; no transpilation layer ->
``skip_transpilation``; statevector layer -> ``run_type="StatevectorRun"``). That request then
goes through the run validation and execution unchanged, and the job is a ``Hybrid`` job:
``input_circuit_ids`` and ``program`` instead of a run job's ``circuit_ids``, ``options``,
``use_mitigation`` and ``run_type``; device credentials are never echoed.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from qiskit_haiqu.api.models import HybridJob, HybridSubmit, JobStatus, JobType, RunJob, RunSubmit
from qiskit_haiqu.api.program import (
    AUXILIARY_LAYER_TYPES,
    MITIGATION_SWITCHES,
    DeviceLayer,
    DistributionMitigationLayer,
    EstimatorLayer,
    Layer,
    PackingLayer,
    program_problems,
)
from qiskit_haiqu.emulator.state import USER_ID, new_id, utcnow
from qiskit_haiqu.emulator.validation import InvalidRequest, error, pydantic_errors

__all__ = [
    "HIDDEN_RUN_FIELDS",
    "hybrid_job",
    "job_json",
    "locate",
    "parse_hybrid_submit",
    "run_request",
]

HIDDEN_RUN_FIELDS = frozenset({"circuit_ids", "options", "use_mitigation", "run_type"})
"""Run-job fields a Hybrid job does not carry on the wire (its program says them)."""

_LAYERS = ("body", "program", "layers")
_NOT_WITH_STATEVECTOR = frozenset(
    {"packing", "estimator", "distribution_mitigation", "readout_basis"}
)


def parse_hybrid_submit(body: bytes) -> HybridSubmit:
    """Parse a ``POST /flow`` body strictly and check its program's rules.

    Raises:
        InvalidRequest: not a valid HybridSubmit, or a program the SDK would refuse.
    """
    try:
        hybrid = HybridSubmit.model_validate_json(body or b"null", strict=True)
    except ValidationError as exc:
        raise InvalidRequest(pydantic_errors(exc)) from None
    problems = program_problems(hybrid.program.layers)
    if problems:
        raise InvalidRequest(
            [
                error(_LAYERS if index is None else (*_LAYERS, index), message)
                for index, message in problems
            ]
        )
    return hybrid


def run_request(hybrid: HybridSubmit) -> RunSubmit:
    """The ``POST /run`` request that means what ``hybrid`` means.

    Raises:
        InvalidRequest: a layer the emulator does not run, or layers that contradict the
            request (an estimator layer without observables, a distribution-mitigation
            layer with them, a statevector program with layers that need measurements).
    """
    layers = hybrid.program.layers
    kinds = {layer.type for layer in layers}
    statevector = layers[-1].type == "statevector"
    errors = [
        error((*_LAYERS, index), message)
        for index, layer in enumerate(layers)
        for message in _refusals(layer, hybrid, statevector)
    ]
    if errors:
        raise InvalidRequest(errors)
    options: dict[str, Any] = {}
    device_id = ""
    use_mitigation = False
    for layer in layers:
        if isinstance(layer, DeviceLayer):
            device_id, options = layer.device_id, {**layer.options, **options}
        elif isinstance(layer, PackingLayer):
            options["use_packing"] = True
            if layer.pack_size is not None:
                options["pack_size"] = layer.pack_size
        elif isinstance(layer, EstimatorLayer | DistributionMitigationLayer):
            use_mitigation = layer.mitigation_enabled
            switches = {name: getattr(layer, name) for name in MITIGATION_SWITCHES}
            options["error_mitigation_options"] = {
                **switches,
                "readout_mitigation_options": layer.readout_mitigation_options,
            }
    if not statevector and "transpilation" not in kinds:
        options["skip_transpilation"] = True
    return RunSubmit(
        experiment_id=hybrid.experiment_id,
        circuit_ids=hybrid.circuit_ids,
        parameters=hybrid.parameters,
        shots=hybrid.shots,
        observables=hybrid.observables,
        readout_bases=hybrid.readout_bases,
        device_id=device_id,
        options=options,
        use_mitigation=use_mitigation,
        name=hybrid.name,
        description=hybrid.description,
        dry_run=hybrid.dry_run,
        run_type="StatevectorRun" if statevector else "Run",
    )


def _refusals(layer: Layer, hybrid: HybridSubmit, statevector: bool) -> list[str]:
    """Why the emulator cannot run ``layer`` of ``hybrid`` (empty: it can)."""
    if layer.type in AUXILIARY_LAYER_TYPES:
        return [
            f"The emulator does not run {layer.type!r} layers; it runs input, packing, "
            "transpilation, readout_basis, estimator or distribution_mitigation, and device "
            "or statevector layers."
        ]
    if statevector and layer.type in _NOT_WITH_STATEVECTOR:
        return [f"A statevector program takes no {layer.type!r} layer: nothing is measured."]
    if layer.type == "estimator" and hybrid.observables is None:
        return ["An estimator layer needs observables; without them use distribution_mitigation."]
    if layer.type == "distribution_mitigation" and hybrid.observables is not None:
        return ["A job with observables takes an estimator layer, not distribution_mitigation."]
    return []


def locate(errors: list[dict[str, Any]], hybrid: HybridSubmit) -> list[dict[str, Any]]:
    """Run-validation errors with their locations in the ``/flow`` body.

    ``device_id`` and ``options`` are the device layer's; the mitigation switches are the
    mitigation layer's.
    """
    kinds = [layer.type for layer in hybrid.program.layers]
    device = kinds.index("device") if "device" in kinds else None
    grouped = next(
        (i for i, kind in enumerate(kinds) if kind in ("estimator", "distribution_mitigation")),
        None,
    )
    located = []
    for item in errors:
        loc = list(item["loc"])
        if loc[1:3] == ["options", "error_mitigation_options"] and grouped is not None:
            loc = [*_LAYERS, grouped, *loc[3:]]
        elif loc[1:2] in (["device_id"], ["options"]) and device is not None:
            loc = [*_LAYERS, device, *loc[1:]]
        located.append({**item, "loc": loc})
    return located


def hybrid_job(hybrid: HybridSubmit, device_id: str) -> HybridJob:
    """The new ``Submitted`` Hybrid job of ``hybrid``, running on ``device_id``."""
    echo = hybrid.model_dump(mode="json", include={"parameters", "observables", "program"})
    return HybridJob(
        id=new_id("jb"),
        user_id=USER_ID,
        experiment_id=hybrid.experiment_id,
        status=JobStatus.SUBMITTED.value,
        job_type=JobType.HYBRID.value,
        device_id=device_id,
        creation_date=utcnow(),
        input_circuit_ids=list(hybrid.circuit_ids),
        program=echo["program"],
        shots=hybrid.shots,
        dry_run=hybrid.dry_run,
        name=hybrid.name,
        description=hybrid.description,
        parameters=hybrid.parameters,
        observables=echo["observables"],
        readout_bases=hybrid.readout_bases,
    )


def job_json(job: RunJob) -> bytes:
    """A job's wire JSON: a Hybrid job without the run-job fields it does not carry."""
    if isinstance(job, HybridJob):
        return job.model_dump_json(exclude=set(HIDDEN_RUN_FIELDS)).encode()
    return job.model_dump_json().encode()
