"""The option names of qiskit-ibm-runtime's primitives, and what a Haiqu user writes instead.

A user moving from ``qiskit_ibm_runtime.SamplerV2`` / ``EstimatorV2`` types the option names
they know (``options.resilience_level = 1``, ``options.dynamical_decoupling.enable = True``).
Each is refused with :class:`UnknownOptionError`, whose message names the Haiqu equivalent
or says that there is none, whether the name is read, assigned or passed in a dict.
"""

from __future__ import annotations

import difflib
from collections.abc import Collection
from types import MappingProxyType

__all__ = ["RUNTIME_OPTIONS", "runtime_hint", "unknown_option_message"]

_MITIGATION = "options.use_mitigation=True"
_SEED = "options.device_options={'seed_simulator': 42}"
_DEVICE = (
    "the device defines it: choose one with the right device_id (client.list_devices(); the "
    "fake_* devices carry IBM devices' coupling maps, gates and noise), and the service "
    "transpiles for it"
)

RUNTIME_OPTIONS = MappingProxyType(
    {
        "resilience_level": (
            f"on Haiqu use {_MITIGATION} (and options.error_mitigation_options to choose the "
            "techniques)"
        ),
        "resilience": (
            f"on Haiqu use {_MITIGATION} and options.error_mitigation_options "
            "(readout_mitigation, noise_tailoring, dynamical_decoupling, advanced_mitigation)"
        ),
        "measure_mitigation": (
            f"on Haiqu use options.error_mitigation_options.readout_mitigation (with {_MITIGATION})"
        ),
        "zne_mitigation": (
            f"Haiqu has no ZNE switch; {_MITIGATION} applies the service's advanced mitigation "
            "(options.error_mitigation_options.advanced_mitigation)"
        ),
        "pec_mitigation": (
            f"Haiqu has no PEC switch; {_MITIGATION} applies the service's advanced mitigation "
            "(options.error_mitigation_options.advanced_mitigation)"
        ),
        "dynamical_decoupling": (
            "on Haiqu use options.error_mitigation_options.dynamical_decoupling "
            f"(with {_MITIGATION}); the service chooses the sequence"
        ),
        "twirling": (
            "on Haiqu use options.error_mitigation_options.noise_tailoring=True (Pauli "
            f"twirling, with {_MITIGATION}); the service chooses the randomizations"
        ),
        "execution": (
            "Haiqu has no equivalent: the service sets up qubit initialisation, the "
            "repetition delay and the measurement (init_qubits, rep_delay, meas_type), and "
            "results are always classified bits"
        ),
        "init_qubits": "Haiqu has no equivalent: the service initialises the qubits",
        "rep_delay": "Haiqu has no equivalent: the service chooses the repetition delay",
        "meas_type": (
            "Haiqu has no equivalent: results are always classified bits (meas_type 'classified')"
        ),
        "environment": (
            "Haiqu has no such group: for job_tags use options.job_name or "
            "options.job_description, for log_level the 'qiskit_haiqu' logger "
            "(logging.getLogger('qiskit_haiqu').setLevel(logging.INFO)), for callback "
            "options.progress=callable"
        ),
        "job_tags": (
            "on Haiqu use options.job_name or options.job_description (stored with the job)"
        ),
        "log_level": (
            "on Haiqu configure the 'qiskit_haiqu' logger, e.g. "
            "logging.getLogger('qiskit_haiqu').setLevel(logging.INFO)"
        ),
        "callback": (
            "on Haiqu use options.progress=callable (called with a JobProgress at each status "
            "change), or options.progress=True for a status line"
        ),
        "private": "Haiqu has no equivalent: results stay on the service with the job",
        "max_execution_time": (
            "Haiqu has no equivalent: bound the wait with job.result(timeout=...) and stop the "
            "job with job.cancel()"
        ),
        "simulator": (
            "on Haiqu pass simulator settings in options.device_options (seed_simulator, "
            "noise_model, method) with device_id='aer_simulator'; coupling_map and "
            "basis_gates come from the device"
        ),
        "seed_simulator": f"on Haiqu use {_SEED}",
        "noise_model": (
            "on Haiqu use options.device_options={'noise_model': "
            "noise_model.to_dict(serializable=True)} with device_id='aer_simulator', or a "
            "fake_* device, which carries its own noise"
        ),
        "coupling_map": f"Haiqu has no equivalent: {_DEVICE}",
        "basis_gates": f"Haiqu has no equivalent: {_DEVICE}",
        "experimental": "Haiqu has no equivalent",
        "seed_estimator": (f"Haiqu has no equivalent; for repeatable simulations use {_SEED}"),
        "shots": ("on Haiqu use options.default_shots, or run(pubs, shots=...) on the sampler"),
        "optimization_level": (
            "Haiqu has no equivalent: the service transpiles every circuit for the device; "
            "options.device_options={'skip_transpilation': True} sends it as it is"
        ),
        "transpilation": (
            "Haiqu has no equivalent: the service transpiles every circuit for the device; "
            "options.device_options={'skip_transpilation': True} sends it as it is"
        ),
    }
)
"""Option names of qiskit-ibm-runtime's V2 primitives (and a few V1 ones) that Haiqu's
options do not have, each with what to do on Haiqu instead."""


def runtime_hint(name: str) -> str | None:
    """What to use on Haiqu instead of the qiskit-ibm-runtime option ``name``, if it is one."""
    return RUNTIME_OPTIONS.get(name)


def unknown_option_message(owner: str, name: str, valid: Collection[str]) -> str:
    """The message for an option ``name`` that ``owner`` (a class name) does not have.

    A qiskit-ibm-runtime name gets its Haiqu equivalent; any other name gets the closest
    valid names, then the list of valid ones.
    """
    hint = runtime_hint(name)
    if hint is not None:
        return f"{name} is a qiskit-ibm-runtime option; {hint}."
    close = difflib.get_close_matches(name, list(valid), n=1)
    guess = f" Did you mean {close[0]!r}?" if close else ""
    return (
        f"Unknown option {name!r} for {owner}.{guess} Valid options are: "
        f"{', '.join(sorted(valid))}."
    )
