"""Settings of the local Haiqu-compatible emulator."""

from __future__ import annotations

import hmac
from collections.abc import Collection
from dataclasses import dataclass, field

__all__ = ["KEY_FORMATS", "RUN_ROUTES", "UPLOAD_LAYOUTS", "EmulatorSettings"]

KEY_FORMATS = ("get_counts", "full", "hex")
"""Values of :attr:`EmulatorSettings.key_format`."""

UPLOAD_LAYOUTS = ("honour", "ignore")
"""Values of :attr:`EmulatorSettings.upload_layout`."""

RUN_ROUTES = ("available", "retired")
"""Values of :attr:`EmulatorSettings.run_route`."""


@dataclass(frozen=True)
class EmulatorSettings:
    """How the emulator behaves: who may call it, how fast jobs run, and its size limits.

    Where the real service's behaviour is unknown (see ``haiqu-api.md`` §15), a setting picks
    one plausible behaviour; its default is the most likely one.

    Attributes:
        api_keys: Keys accepted in the ``authorization`` header or the ``HAIQU_API_KEY``
            query parameter. Empty (the default): any non-empty key is accepted.
        enable_faults: Serve the fault-injection control endpoints (``/_emulator/faults``).
        min_job_seconds: Every job takes at least this long, spread over its ``Submitted``,
            ``Queued`` and ``Running`` phases, so a poller sees the intermediate statuses.
        max_workers: Threads that run jobs.
        max_statevector_qubits: Qubit limit of ``aer_simulator`` (statevector).
        max_noisy_qubits: Qubit limit of a noisy simulation without MPS (``fake_*``, or
            ``aer_simulator`` with a ``noise_model``).
        max_mps_qubits: Qubit limit of ``aer_simulator`` with ``method=matrix_product_state``
            (a fake device's limit is then its own qubit count).
        max_statevector_run_qubits: Qubit limit of ``run_type="StatevectorRun"``.
        max_body_bytes: Largest request body accepted (bigger ones get 413).
        max_circuits_per_job: Most entries in ``circuit_ids`` of one ``POST /run``.
        max_parameter_rows: Most parameter rows in one job, all circuits together.
        max_observable_terms: Most Pauli terms in one job, all observables together.
        max_shots: Largest ``shots``.
        max_logged_requests: The request log keeps this many most recent entries.
        max_finished_jobs: Finished jobs (``Done``, ``Error``, ``Cancelled``) kept, most
            recent first; older ones are forgotten with their results, and their ids answer
            404 saying so. It bounds the memory of a long-lived emulator (and of
            ``HAIQU_API_URL=local``, which runs in the user's process). ``0``: keep all.
        version: What ``GET /version`` answers.
        key_format: How sampled outcomes are keyed in ``quantum_results`` (§15 Q2):
            ``"get_counts"`` (default) as Qiskit's ``Result.get_counts()`` writes them for
            the executed circuit (one space-separated group per classical register, cut
            positionally from the full clbit string); ``"full"`` the full clbit string,
            ``num_clbits`` characters, clbit 0 rightmost, no spaces; ``"hex"`` Aer's raw
            ``0x..`` keys.
        upload_layout: What the server makes of the ``layout`` an uploaded circuit carries
            (§15 Q8): ``"honour"`` (default) reads observables as virtual, at the width of
            the circuit before its layout, and maps them with ``apply_layout(layout)``
            before its own transpilation; ``"ignore"`` drops the layout, so observables
            are at the circuit's full width.
        max_density_matrix_qubits: An expectation value of a non-unitary circuit (reset,
            ``initialize``, classical control flow) without mid-circuit measurements is
            computed exactly with the density-matrix method up to this many qubits;
            wider, or with mid-circuit measurements, from trajectories.
        max_trajectories: Most trajectories simulated for an expectation value that needs
            them (a noisy device, or a non-unitary circuit not computed exactly); with
            fewer shots, one trajectory per shot. At least 2 (their spread is part of the
            reported uncertainty).
        run_route: Whether ``POST /run`` exists: ``"available"`` (default) serves it next to
            ``POST /flow``; ``"retired"`` removes it, as haiqu-sdk 1.7.0 announces, so it
            answers FastAPI's route-missing ``404 {"detail": "Not Found"}``.
    """

    api_keys: Collection[str] = field(default_factory=tuple)
    enable_faults: bool = False
    min_job_seconds: float = 0.0
    max_workers: int = 2
    max_statevector_qubits: int = 24
    max_noisy_qubits: int = 12
    max_mps_qubits: int = 200
    max_statevector_run_qubits: int = 20
    max_body_bytes: int = 64 * 1024 * 1024
    max_circuits_per_job: int = 1_000
    max_parameter_rows: int = 100_000
    max_observable_terms: int = 1_000_000
    max_shots: int = 10_000_000
    max_logged_requests: int = 10_000
    max_finished_jobs: int = 1_000
    version: str = "0.1.0-emulator"
    key_format: str = "get_counts"
    upload_layout: str = "honour"
    max_density_matrix_qubits: int = 12
    max_trajectories: int = 1024
    run_route: str = "available"

    def __post_init__(self) -> None:
        """Normalise ``api_keys`` to a tuple and check the numbers."""
        object.__setattr__(self, "api_keys", tuple(self.api_keys or ()))
        if self.min_job_seconds < 0:
            raise ValueError("min_job_seconds must be >= 0")
        if self.max_workers < 1:
            raise ValueError("max_workers must be >= 1")
        if self.max_finished_jobs < 0:
            raise ValueError("max_finished_jobs must be >= 0 (0 keeps every job)")
        if self.key_format not in KEY_FORMATS:
            raise ValueError(f"key_format must be one of {', '.join(KEY_FORMATS)}")
        if self.upload_layout not in UPLOAD_LAYOUTS:
            raise ValueError(f"upload_layout must be one of {', '.join(UPLOAD_LAYOUTS)}")
        if self.max_density_matrix_qubits < 0:
            raise ValueError("max_density_matrix_qubits must be >= 0")
        if self.run_route not in RUN_ROUTES:
            raise ValueError(f"run_route must be one of {', '.join(RUN_ROUTES)}")
        if self.max_trajectories < 2:
            raise ValueError("max_trajectories must be >= 2")

    def accepts_key(self, key: str | None) -> bool:
        """Whether ``key`` authenticates a request."""
        if not key:
            return False
        if not self.api_keys:
            return True
        return any(hmac.compare_digest(key.encode(), k.encode()) for k in self.api_keys)
