"""A finished job's results as flat records, for ``qiskit-haiqu result`` (table or JSON)."""

from __future__ import annotations

from typing import Any

from qiskit_haiqu.api.models import RunJob

__all__ = ["result_records", "result_rows"]


def _rows(value: Any, parameterised: bool) -> list[tuple[int | None, Any]]:
    """``(row, item)`` pairs of one circuit's (or observable's) result."""
    if parameterised:
        return list(enumerate(value))
    return [(None, value)]


def result_records(job: RunJob, top: int | None = None) -> list[dict[str, Any]]:
    """One record per outcome (sampler jobs) or per observable value (estimator jobs).

    Args:
        job: A finished run job.
        top: Keep only the most probable ``top`` outcomes of each distribution.
    """
    results = job.quantum_results or []
    parameterised = job.parameters is not None
    records: list[dict[str, Any]] = []
    if job.observables is not None:
        stds = (job.info or {}).get("uncertainty")
        for circuit, per_observable in enumerate(results):
            for observable, values in enumerate(per_observable):
                errors = None if stds is None else stds[circuit][observable]
                for row, value in _rows(values, parameterised):
                    std = None if errors is None else (errors[row] if row is not None else errors)
                    records.append(
                        {"circuit": circuit, "observable": observable, "row": row}
                        | {"value": float(value), "std": None if std is None else float(std)}
                    )
        return records
    counted = not job.use_mitigation
    for circuit, per_circuit in enumerate(results):
        for row, distribution in _rows(per_circuit, parameterised):
            ranked = sorted(distribution.items(), key=lambda item: -item[1])[:top]
            for outcome, probability in ranked:
                record: dict[str, Any] = {"circuit": circuit, "row": row, "outcome": outcome}
                record["probability"] = float(probability)
                if counted:
                    record["count"] = round(float(probability) * job.shots)
                records.append(record)
    return records


def result_rows(records: list[dict[str, Any]]) -> list[list[str]]:
    """A header and one text row per record (columns are the records' keys)."""
    if not records:
        return []
    keys = list(records[0])
    rows = [[key.upper() for key in keys]]
    for record in records:
        cells = []
        for key in keys:
            value = record.get(key)
            if value is None:
                cells.append("-")
            elif isinstance(value, float):
                cells.append(f"{value:.6g}")
            else:
                cells.append(str(value))
        rows.append(cells)
    return rows
