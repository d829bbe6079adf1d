"""The emulator forgets the oldest finished jobs past max_finished_jobs, and says so."""

from __future__ import annotations

import pytest
from qiskit.circuit import QuantumCircuit

from qiskit_haiqu.emulator import EmulatorServer, EmulatorSettings
from qiskit_haiqu.emulator.state import EmulatorState

from ._support import Api


def test_finished_jobs_past_the_limit_are_forgotten_and_their_ids_say_so():
    qc = QuantumCircuit(1, 1)
    qc.measure(0, 0)
    with EmulatorServer(EmulatorSettings(max_finished_jobs=3)) as server:
        api = Api(server.url)
        exp = api.experiment()
        circuit = api.upload(exp, qc)
        ids = [api.run(experiment_id=exp, circuit_ids=[circuit], shots=4)["id"] for _ in range(5)]
        for job_id in ids[:2]:
            response = api.http.get(f"/jobs/{job_id}")
            assert response.status_code == 404
            assert "expired" in response.json()["detail"]
            assert "max_finished_jobs" in response.json()["detail"]
        for job_id in ids[2:]:
            assert api.http.get(f"/jobs/{job_id}").json()["status"] == "Done"
        listed = api.http.get(f"/experiments/{exp}/jobs", params={"limit": 50}).json()
        assert [job["id"] for job in listed] == ids[:1:-1]
        job_ids = api.http.get(f"/circuits/{circuit}").json()["job_ids"]
        assert job_ids == ids[2:]
        assert api.http.get("/jobs/jb-never-existed").json()["detail"] == "Job not found."
        api.close()


def test_jobs_still_running_are_never_forgotten():
    state = EmulatorState(max_finished_jobs=1)
    from datetime import datetime, timezone

    from qiskit_haiqu.api.models import RunJob

    def job(job_id: str) -> RunJob:
        return RunJob(
            id=job_id,
            user_id=1,
            experiment_id="exp",
            status="Submitted",
            job_type="Run",
            creation_date=datetime.now(timezone.utc),
            device_id="aer_simulator",
            circuit_ids=[],
            shots=1,
            use_mitigation=False,
            dry_run=False,
            run_type="Run",
        )

    for job_id in ("a", "b", "c"):
        state.add_job(job(job_id))
    assert state.job_count() == 3
    state.update_job("a", status="Done")
    state.update_job("b", status="Done")  # "a" goes: only one finished job is kept
    assert state.get_job("a") is None
    assert state.job_expired("a")
    assert state.get_job("b") is not None
    assert state.get_job("c") is not None  # still running: kept whatever the count
    assert state.job_count() == 2


def test_the_limit_must_not_be_negative():
    with pytest.raises(ValueError, match="max_finished_jobs"):
        EmulatorSettings(max_finished_jobs=-1)
