"""Asynchronous execution of run jobs on a small worker pool.

A job moves ``Submitted -> Queued -> Running`` and ends ``Done``, ``Error`` (with the
simulator's message in ``logs``) or ``Cancelled``. ``min_job_seconds`` stretches the phases
so a poller can see each status. Cancelling a job that is already final changes nothing.
"""

from __future__ import annotations

import logging
import time
from concurrent.futures import ThreadPoolExecutor

from qiskit_haiqu.api.models import JobStatus, RunJob
from qiskit_haiqu.emulator.simulate import RunPlan, Simulator
from qiskit_haiqu.emulator.state import EmulatorState, utcnow

__all__ = ["JobRunner"]

_LOG = logging.getLogger(__name__)


class JobRunner:
    """Runs jobs in background threads and records their progress in the state."""

    def __init__(
        self,
        state: EmulatorState,
        simulator: Simulator,
        *,
        max_workers: int = 2,
        min_job_seconds: float = 0.0,
    ) -> None:
        self._state = state
        self._simulator = simulator
        self._min_seconds = min_job_seconds
        self._executor = ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="haiqu-job")

    def submit(self, job_id: str, plan: RunPlan) -> None:
        """Start a stored ``Submitted`` job in the background."""
        self._executor.submit(self._execute, job_id, plan)

    def cancel(self, job_id: str) -> RunJob | None:
        """Cancel a job that is not final; return the job as it now is (``None``: unknown)."""
        now = utcnow()
        self._state.update_job(job_id, status=JobStatus.CANCELLED.value, finish_date=now)
        record = self._state.get_job(job_id)
        if record is None:
            return None
        if record.model.status == JobStatus.CANCELLED.value:
            record.cancel_event.set()
        return record.model

    def shutdown(self) -> None:
        """Stop taking jobs; jobs still queued are dropped."""
        self._executor.shutdown(wait=False, cancel_futures=True)

    def _execute(self, job_id: str, plan: RunPlan) -> None:
        try:
            self._phases(job_id, plan)
        except Exception as exc:  # noqa: BLE001 - a worker must never die silently
            _LOG.exception("job %s failed in the emulator", job_id)
            self._state.update_job(
                job_id,
                status=JobStatus.ERROR.value,
                logs=f"Internal emulator error: {type(exc).__name__}: {exc}",
                finish_date=utcnow(),
            )

    def _phases(self, job_id: str, plan: RunPlan) -> None:
        record = self._state.get_job(job_id)
        if record is None:
            return
        started = time.monotonic()
        step = self._min_seconds / 3
        if record.cancel_event.wait(step) or not self._state.update_job(
            job_id, status=JobStatus.QUEUED.value
        ):
            return
        if record.cancel_event.wait(step):
            return
        run_date = utcnow()
        if not self._state.update_job(job_id, status=JobStatus.RUNNING.value, run_date=run_date):
            return
        try:
            results, info = self._simulator.run(plan)
        except Exception as exc:  # noqa: BLE001 - the simulator's message goes to the job's logs
            finish = utcnow()
            self._state.update_job(
                job_id,
                status=JobStatus.ERROR.value,
                logs=f"Simulation failed: {type(exc).__name__}: {exc}",
                finish_date=finish,
                time=(finish - run_date).total_seconds(),
            )
            return
        remaining = self._min_seconds - (time.monotonic() - started)
        if remaining > 0 and record.cancel_event.wait(remaining):
            return
        finish = utcnow()
        done = self._state.update_job(
            job_id,
            status=JobStatus.DONE.value,
            quantum_results=results,
            info=info,
            finish_date=finish,
            time=(finish - run_date).total_seconds(),
        )
        if done:  # its reply is written now, as a service stores results, not on each poll
            self._state.job_json(record.model)
