"""One run, two routes: the ``POST /flow`` body that means what a ``POST /run`` body means.

Since haiqu-sdk 1.7.0, ``haiqu.run`` posts a hybrid program to ``/flow``; ``/run`` is
deprecated. A run is described once, as the fields of a ``POST /run`` body
(:class:`~qiskit_haiqu.api.models.RunSubmit`), and :func:`flow_body` translates it the way the
SDK splits ``haiqu.run``'s options:

- device credentials leave the options for the body's ``device_credentials``;
- pipeline keys become layers: ``use_packing`` / ``pack_size`` a packing layer,
  ``skip_transpilation`` the absence of the transpilation layer (whose fields are
  ``transpilation_options``), ``error_mitigation_options`` the switches of the grouped
  mitigation layer, ``auto_quality`` the device layer's flag;
- every other option is the backend's, on the device layer.

The mitigation layer states every switch: ``/flow``'s defaults differ from ``/run``'s (the
SDK's ``run()`` turns noise tailoring on and readout mitigation off, and the two grouped
layers disagree on ``mitigation_enabled``), so a switch left out would change the meaning.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from qiskit_haiqu.api.program import MITIGATION_SWITCHES, TRANSPILATION_FIELDS
from qiskit_haiqu.errors import HaiquInputError

__all__ = ["CREDENTIAL_KEYS", "RUN_MITIGATION_DEFAULTS", "flow_body", "flow_program"]

CREDENTIAL_KEYS = frozenset(
    {
        "aws_access_key_id",
        "aws_secret_access_key",
        "aws_default_region",
        "aws_session_token",
        "ibm_quantum_token",
        "ibm_quantum_instance",
        "iqm_token",
        "iqm_server_url",
        "ionq_api_key",
    }
)
"""Options that are device credentials (``haiqu-api.md`` §8): ``device_credentials`` on /flow."""

RUN_MITIGATION_DEFAULTS: Mapping[str, bool] = {
    "advanced_mitigation": True,
    "readout_mitigation": True,
    "noise_tailoring": False,
    "dynamical_decoupling": True,
}
"""What ``POST /run`` does with a mitigation switch its ``error_mitigation_options`` leave out."""


def flow_body(run: Mapping[str, Any]) -> dict[str, Any]:
    """The ``POST /flow`` body of the run whose ``POST /run`` fields are ``run``.

    ``readout_bases`` is sent only when given; values (numpy arrays included) are passed
    through as they are. ``run`` is not changed.

    Raises:
        HaiquInputError: ``error_mitigation_options`` or ``transpilation_options`` in the
            options is not an object.
    """
    options = dict(run.get("options") or {})
    credentials = {key: options.pop(key) for key in list(options) if key in CREDENTIAL_KEYS}
    statevector = _text(run.get("run_type")) == "StatevectorRun"
    body: dict[str, Any] = {
        "experiment_id": run.get("experiment_id"),
        "name": run.get("name") or "",
        "description": run.get("description") or "",
        "program": flow_program(run, options, statevector=statevector),
        "circuit_ids": list(run.get("circuit_ids") or ()),
        "shots": 1 if statevector else run.get("shots", 1024),
        "parameters": run.get("parameters"),
        "observables": run.get("observables"),
    }
    if run.get("readout_bases") is not None:
        body["readout_bases"] = run["readout_bases"]
    body["device_credentials"] = credentials
    body["dry_run"] = bool(run.get("dry_run"))
    return body


def flow_program(
    run: Mapping[str, Any], options: Mapping[str, Any], *, statevector: bool = False
) -> dict[str, Any]:
    """The program of the run ``run`` whose options, credentials removed, are ``options``."""
    if statevector:
        return {"schema_version": 1, "layers": [{"type": "input"}, {"type": "statevector"}]}
    backend = dict(options)
    mitigation = _object(backend.pop("error_mitigation_options", None), "error_mitigation_options")
    transpilation = _object(backend.pop("transpilation_options", None), "transpilation_options")
    skip_transpilation = bool(backend.pop("skip_transpilation", False))
    use_packing = bool(backend.pop("use_packing", False))
    pack_size = backend.pop("pack_size", None)
    auto_quality = bool(backend.pop("auto_quality", False))

    layers: list[dict[str, Any]] = [{"type": "input"}]
    if use_packing:
        layers.append({"type": "packing", "pack_size": pack_size})
    if not skip_transpilation:
        fields = dict.fromkeys(TRANSPILATION_FIELDS)
        layers.append({"type": "transpilation", **fields, **transpilation})
    estimator = run.get("observables") is not None
    if not estimator and run.get("readout_bases") is not None:
        layers.append({"type": "readout_basis"})
    switches = {
        name: mitigation.get(name, RUN_MITIGATION_DEFAULTS[name]) for name in MITIGATION_SWITCHES
    }
    layers.append(
        {
            "type": "estimator" if estimator else "distribution_mitigation",
            "mitigation_enabled": bool(run.get("use_mitigation")),
            **switches,
            "readout_mitigation_options": dict(mitigation.get("readout_mitigation_options") or {}),
        }
    )
    layers.append(
        {
            "type": "device",
            "device_id": run.get("device_id") or "",
            "options": backend,
            "auto_quality": auto_quality,
        }
    )
    return {"schema_version": 1, "layers": layers}


def _object(value: Any, name: str) -> Mapping[str, Any]:
    """An option that must be an object (``None`` reads as empty)."""
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise HaiquInputError(
            f"The option {name} must be an object (a dict), not {type(value).__name__}."
        )
    return value


def _text(value: Any) -> str:
    """An enum's value, or the string itself."""
    return str(getattr(value, "value", value) or "")
