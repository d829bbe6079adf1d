"""``url="local"``: one embedded emulator per process, shared by every client, over real HTTP."""

from __future__ import annotations

import json
import os
import pickle
import subprocess
import sys
import threading
from typing import Any

import pytest
from qiskit.circuit import QuantumCircuit

from qiskit_haiqu import HaiquClient, HaiquConfigurationError, HaiquConnectionError
from qiskit_haiqu.api import local_server
from qiskit_haiqu.api.models import CircuitSubmit, RunSubmit
from qiskit_haiqu.api.retry import RetryPolicy
from qiskit_haiqu.emulator.embedded import shared_emulator
from qiskit_haiqu.translate.circuits import circuit_fingerprint, encode_circuit


@pytest.fixture
def local_env(monkeypatch):
    monkeypatch.setenv("HAIQU_API_URL", "local")
    monkeypatch.delenv("HAIQU_API_KEY", raising=False)


def _submit(client: HaiquClient) -> str:
    experiment = client.init_experiment("shared-local")
    qc = QuantumCircuit(1, 1)
    qc.x(0)
    qc.measure(0, 0)
    stored = client.upload_circuit(
        CircuitSubmit(
            experiment_id=experiment.id,
            qpy_dump=encode_circuit(qc),
            hash=circuit_fingerprint(qc),
            name="x",
        )
    )
    body = RunSubmit.model_construct(
        experiment_id=experiment.id, circuit_ids=[stored.id], shots=4, device_id="aer_simulator"
    )
    return client.submit_run(body).id


def test_two_clients_share_one_server(local_env):
    first, second = HaiquClient(), HaiquClient()
    try:
        assert first.base_url == second.base_url == shared_emulator().url
        job_id = _submit(first)
        assert second.get_job(job_id).id == job_id
    finally:
        first.close()
    # closing one client leaves the shared server serving the other (and new ones)
    assert second.get_job(job_id).id == job_id
    second.close()
    with HaiquClient() as third:
        assert third.get_job(job_id).id == job_id


def test_url_local_argument_and_local_without_settings_share_it():
    with HaiquClient(url="local") as by_url, HaiquClient.local() as by_method:
        assert by_url.base_url == by_method.base_url == shared_emulator().url
        assert by_url.version()


def test_the_shared_server_starts_once_under_concurrent_first_use():
    urls: list[str] = []
    threads = [
        threading.Thread(target=lambda: urls.append(shared_emulator().url)) for _ in range(8)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(urls)) == 1


def test_local_with_emulator_settings_gets_a_private_server_stopped_on_close():
    client = HaiquClient.local(
        min_job_seconds=0.0, max_workers=1, retry=RetryPolicy(max_attempts=1)
    )
    url = client.base_url
    assert url != shared_emulator().url
    assert client.retry.max_attempts == 1  # client arguments still reach the client
    assert client.version()
    client.close()
    with (
        HaiquClient(url=url, api_key="local", retry=RetryPolicy(max_attempts=1)) as late,
        pytest.raises(HaiquConnectionError),
    ):
        late.version()
    assert HaiquClient(url="local").version()  # the shared one is untouched


def test_local_refuses_a_bad_client_argument_and_stops_its_private_server(monkeypatch):
    started = []
    real = local_server.private_local_server

    def spy(settings):
        server = real(settings)
        started.append(server)
        return server

    monkeypatch.setattr("qiskit_haiqu.api.client.private_local_server", spy)
    with pytest.raises(HaiquConfigurationError, match="auth must be"):
        HaiquClient.local(max_workers=1, auth="cookie")
    assert started
    assert started[0]._thread is not None
    assert not started[0]._thread.is_alive()


def test_portable_settings_of_a_local_client_reach_the_same_server(local_env):
    with HaiquClient() as client:
        job_id = _submit(client)
        settings = pickle.loads(pickle.dumps(client.portable_settings()))
    assert settings["api_key"] == "local"
    assert settings["url"] == shared_emulator().url
    with HaiquClient(**settings) as elsewhere:
        assert elsewhere.get_job(job_id).id == job_id


def test_without_a_registered_factory_url_local_says_what_is_missing(monkeypatch):
    monkeypatch.setattr(local_server, "_factory", None)
    with pytest.raises(HaiquConfigurationError, match="emulator extra"):
        HaiquClient(url="local")


_FRESH_PROCESS = """
import json, os, sys
os.environ["HAIQU_API_URL"] = "local"
import qiskit_haiqu
seen = {"after import": sorted(m for m in NAMES if m in sys.modules)}
from qiskit import QuantumCircuit
bell = QuantumCircuit(2)
bell.h(0)
bell.cx(0, 1)
bell.measure_all()
with qiskit_haiqu.HaiquSampler() as sampler:
    seen["counts"] = sampler.run([bell], shots=200).result()[0].data.meas.get_counts()
seen["after a run"] = sorted(m for m in NAMES if m in sys.modules)
print(json.dumps(seen))
"""


@pytest.fixture(scope="module")
def fresh_process() -> dict[str, Any]:
    """What a fresh process imported: of the package, then of a Bell run on ``local``."""
    names = ("fastapi", "uvicorn", "qiskit_haiqu.emulator", "qiskit_ibm_runtime")
    code = f"NAMES = {names!r}\n{_FRESH_PROCESS}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("HAIQU_")}
    done = subprocess.run(
        [sys.executable, "-c", code], check=True, timeout=120, capture_output=True, env=env
    )
    return dict(json.loads(done.stdout.decode().splitlines()[-1]))


def test_importing_the_package_does_not_import_the_emulator(fresh_process):
    assert fresh_process["after import"] == []


def test_a_local_run_of_standard_gates_loads_no_transpiler_plugin(fresh_process):
    # Transpiling would load every installed stage plugin (qiskit-ibm-runtime's ~1.7 s).
    assert fresh_process["after a run"] == ["fastapi", "qiskit_haiqu.emulator", "uvicorn"]
    assert set(fresh_process["counts"]) == {"00", "11"}
    assert sum(fresh_process["counts"].values()) == 200
