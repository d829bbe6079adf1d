"""Asynchronous execution of jobs on a small worker pool."""

from __future__ import annotations

import logging
import time
import traceback
from concurrent.futures import ThreadPoolExecutor

from qiskit_haiqu.emulator.devices import EmulatedDevice
from qiskit_haiqu.emulator.simulate import RunSpec, execute
from qiskit_haiqu.emulator.state import Store, now

__all__ = ["JobRunner"]

logger = logging.getLogger("qiskit_haiqu.emulator")


class JobRunner:
    """Runs jobs in the background: Submitted -> Queued -> Running -> Done / Error."""

    def __init__(self, store: Store, max_workers: int, min_job_seconds: float) -> None:
        self._store = store
        self._pool = ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="haiqu-job")
        self._min_seconds = min_job_seconds

    def submit(self, job_id: str, spec: RunSpec, device: EmulatedDevice) -> None:
        """Queue a job for execution."""
        self._store.update_job(job_id, status="Queued")
        self._pool.submit(self._run, job_id, spec, device)

    def _run(self, job_id: str, spec: RunSpec, device: EmulatedDevice) -> None:
        start = time.monotonic()
        if not self._store.update_job(job_id, status="Running", run_date=now()):
            return  # cancelled while queued
        try:
            results, info = execute(spec, device)
        except Exception as exc:  # noqa: BLE001 - any simulator failure becomes the job's logs
            logger.debug("job %s failed: %s", job_id, traceback.format_exc())
            self._finish(job_id, start, status="Error", logs=f"{type(exc).__name__}: {exc}")
            return
        self._finish(job_id, start, status="Done", quantum_results=results, info=info)

    def _finish(self, job_id: str, start: float, **fields: object) -> None:
        remaining = self._min_seconds - (time.monotonic() - start)
        if remaining > 0:
            time.sleep(remaining)
        self._store.update_job(
            job_id, finish_date=now(), time=round(time.monotonic() - start, 6), **fields
        )

    def shutdown(self) -> None:
        """Stop accepting jobs; running ones finish in the background."""
        self._pool.shutdown(wait=False, cancel_futures=True)
