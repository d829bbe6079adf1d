"""Progress of a waiting job: the snapshot a callback receives, and a terminal display."""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import TextIO

__all__ = ["JobProgress", "ProgressCallback", "TerminalProgress", "progress_hook"]


@dataclass(frozen=True)
class JobProgress:
    """Where a primitive job stands, as known after the latest poll."""

    job_id: str
    """The primitive job's id (Haiqu job ids joined by ``";"``)."""
    device_id: str
    """The device the job runs on."""
    status: str
    """The combined status, a :class:`qiskit.providers.JobStatus` name (``"RUNNING"``, ...)."""
    statuses: tuple[str, ...]
    """Each Haiqu job's own status (``"Queued"``, ``"Running"``, ``"Done"``, ...), in order."""
    finished: int
    """How many of the Haiqu jobs are final."""
    elapsed: float
    """Seconds since the job handle was created (at submission, or at reattachment)."""
    changed: bool
    """Whether a status changed since the previous snapshot (always true for the first)."""

    @property
    def total(self) -> int:
        """How many Haiqu jobs the primitive job has."""
        return len(self.statuses)

    @property
    def final(self) -> bool:
        """Whether every Haiqu job is final."""
        return self.finished == self.total

    def describe(self) -> str:
        """One line, e.g. ``Haiqu job jb-1;jb-2 on aer_simulator: RUNNING (1/2 done, 3.1 s)``."""
        parts = f"{self.finished}/{self.total} done, " if self.total > 1 else ""
        return (
            f"Haiqu job {self.job_id} on {self.device_id}: {self.status} "
            f"({parts}{self.elapsed:.1f} s)"
        )


ProgressCallback = Callable[[JobProgress], None]
"""What the ``progress`` option takes besides ``True``: called with each status change."""


class TerminalProgress:
    """Shows a waiting job on a stream (standard error by default).

    In a terminal one line is rewritten after every poll, so the elapsed time keeps moving;
    elsewhere (a log file, CI) a line is written for each status change only.
    """

    def __init__(self, stream: TextIO | None = None) -> None:
        self._stream = stream
        self._width = 0

    def __call__(self, progress: JobProgress) -> None:
        """Show ``progress``."""
        stream = self._stream if self._stream is not None else sys.stderr
        line = progress.describe()
        if _is_terminal(stream):
            padding = " " * max(0, self._width - len(line))
            self._width = len(line)
            stream.write(f"\r{line}{padding}" + ("\n" if progress.final else ""))
        elif progress.changed:
            stream.write(line + "\n")
        stream.flush()


def _is_terminal(stream: TextIO) -> bool:
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


class _OnChange:
    """Forwards only the snapshots in which a status changed."""

    def __init__(self, callback: ProgressCallback) -> None:
        self._callback = callback

    def __call__(self, progress: JobProgress) -> None:
        if progress.changed:
            self._callback(progress)


def progress_hook(progress: bool | ProgressCallback) -> ProgressCallback | None:
    """What a job calls after each poll, for the ``progress`` option's value."""
    if progress is True:
        return TerminalProgress()
    if progress is False:
        return None
    return _OnChange(progress)
