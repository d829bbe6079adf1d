"""Settings of the local Haiqu-compatible emulator."""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["EmulatorSettings"]


@dataclass
class EmulatorSettings:
    """How the emulator behaves.

    Attributes:
        api_keys: Keys accepted; empty accepts any non-empty key.
        enable_faults: Serve the ``/_emulator/faults`` fault-injection control (tests only).
        min_job_seconds: Every job takes at least this long (so pollers see it queued and
            running).
        max_workers: Jobs executed at once.
        max_circuits_per_job: Circuit entries one ``POST /run`` may hold.
        max_parameter_rows: Parameter rows one ``POST /run`` may hold in all.
        max_shots: Shots one job may ask for.
    """

    api_keys: frozenset[str] = field(default_factory=frozenset)
    enable_faults: bool = False
    min_job_seconds: float = 0.0
    max_workers: int = 2
    max_circuits_per_job: int = 10_000
    max_parameter_rows: int = 1_000_000
    max_shots: int = 10_000_000
