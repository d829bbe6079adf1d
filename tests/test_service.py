"""HaiquService: devices and backends, and jobs found again by id whatever primitive made them."""

from __future__ import annotations

import uuid

import httpx
import numpy as np
import pytest
from qiskit import QuantumCircuit
from qiskit.circuit import ClassicalRegister, Parameter, QuantumRegister
from qiskit.primitives import SamplerPubResult

from qiskit_haiqu import (
    HaiquBackend,
    HaiquClient,
    HaiquEstimator,
    HaiquInputError,
    HaiquJob,
    HaiquSampler,
    HaiquService,
    NotFoundError,
)
from qiskit_haiqu.api.models import CircuitSubmit, RunSubmit
from qiskit_haiqu.translate.circuits import circuit_fingerprint, encode_circuit

API_KEY = "test-key-123"  # the session emulator's (tests/conftest.py)


@pytest.fixture
def service(client):
    return HaiquService(client)


def _sweep_circuit() -> QuantumCircuit:
    a = Parameter("a")
    qc = QuantumCircuit(QuantumRegister(2), ClassicalRegister(1, "low"), ClassicalRegister(2, "hi"))
    qc.rx(a, 0)
    qc.x(1)
    qc.measure(0, 0)
    qc.measure(1, 2)
    return qc


def _counts(result) -> list[dict[str, list[dict[str, int]]]]:
    return [
        {name: [r.data[name][i].get_counts() for i in np.ndindex(r.data.shape)] for name in r.data}
        for r in result
    ]


def _foreign_job(client: HaiquClient, experiment_name: str) -> str:
    """A run job submitted without any primitive (so without its pubs' record)."""
    qc = QuantumCircuit(1, 1)
    qc.measure(0, 0)
    experiment = client.init_experiment(experiment_name)
    stored = client.upload_circuit(
        CircuitSubmit(
            experiment_id=experiment.id, qpy_dump=encode_circuit(qc), hash=circuit_fingerprint(qc)
        )
    )
    job = client.submit_run(
        RunSubmit.model_construct(experiment_id=experiment.id, circuit_ids=[stored.id], shots=4)
    )
    return job.id


# -- devices and backends --------------------------------------------------------------------


def test_devices_and_backends_are_the_services(service, client):
    ids = [device.id for device in client.list_devices()]
    assert [device.id for device in service.devices()] == ids
    with pytest.warns(UserWarning, match="aer_simulator"):  # Aer's own instructions
        backends = service.backends()
    assert all(isinstance(backend, HaiquBackend) for backend in backends)
    assert [backend.name for backend in backends] == ids
    assert all(backend.client is client for backend in backends)
    assert [b.name for b in service.backends(simulator=False)] == []  # the emulator's: all sims
    manila = service.backend("fake_manila")
    assert manila.num_qubits == client.get_device("fake_manila").qubits == 5


def _device(device_id: str, simulator: bool) -> dict:
    return {
        "id": device_id,
        "vendor": "v",
        "name": device_id,
        "qubits": 2,
        "status": "online",
        "simulator": simulator,
        "operation_names": ["cx", "rz", "sx", "measure"],
        "coupling_map": [[0, 1]],
    }


def test_backends_filter_on_the_simulator_flag():
    # The emulator has only simulators: a QPU in the listing takes a canned reply.
    listing = [_device("sim", True), _device("qpu", False), _device("sim2", True)]

    def reply(request: httpx.Request) -> httpx.Response:
        assert request.url.path == "/devices"
        return httpx.Response(200, json=listing)

    transport = httpx.MockTransport(reply)
    with HaiquClient(url="http://127.0.0.1:9", api_key="k", transport=transport) as client:
        service = HaiquService(client)
        assert [b.name for b in service.backends()] == ["sim", "qpu", "sim2"]
        assert [b.name for b in service.backends(simulator=True)] == ["sim", "sim2"]
        assert [b.name for b in service.backends(simulator=False)] == ["qpu"]


def test_unknown_backend_names_the_available_devices(service, client):
    with pytest.raises(HaiquInputError, match="Unknown device 'ibm_nowhere'") as caught:
        service.backend("ibm_nowhere")
    for device in client.list_devices():
        assert device.id in str(caught.value)


def test_a_service_closes_only_the_client_it_created(emulator, monkeypatch, client):
    monkeypatch.setenv("HAIQU_API_URL", emulator.url)
    monkeypatch.setenv("HAIQU_API_KEY", API_KEY)
    with HaiquService() as service:
        assert service.devices()
        assert API_KEY not in repr(service)
    with pytest.raises(RuntimeError, match="closed"):
        service.devices()
    with HaiquService(client) as borrowed:
        borrowed.devices()
    assert client.list_devices()  # still open


# -- job(id) ---------------------------------------------------------------------------------


def test_job_reattaches_a_sampler_job(service, client):
    values = np.array([[0.0], [np.pi]])
    pubs = [(_sweep_circuit(), values, 32), _sweep_circuit().assign_parameters([np.pi])]
    original = HaiquSampler("aer_simulator", client=client).run(pubs)  # split: two shots
    assert ";" in original.job_id()
    expected = original.result()
    job = service.job(original.job_id())
    assert isinstance(job, HaiquJob)
    assert job.job_id() == original.job_id()
    result = job.result()
    assert all(isinstance(r, SamplerPubResult) for r in result)
    assert _counts(result) == _counts(expected)
    assert [list(r.data) for r in result] == [["low", "hi"], ["low", "hi"]]
    assert result.metadata["device_id"] == "aer_simulator"


def test_job_reattaches_an_estimator_job_on_its_device(service, client):
    qc = QuantumCircuit(2)
    qc.ry(Parameter("t"), 0)
    qc.cx(0, 1)
    pub = (qc, [["ZZ"], ["XX"]], np.linspace(0, np.pi, 3))
    options = {"default_shots": 200}
    original = HaiquEstimator("fake_manila", client=client, options=options).run([pub])
    expected = original.result()
    job = service.job(original.job_id())
    assert job.device_id == "fake_manila"
    result = job.result()
    np.testing.assert_array_equal(result[0].data.evs, expected[0].data.evs)
    np.testing.assert_array_equal(result[0].data.stds, expected[0].data.stds)
    assert result[0].data.evs.shape == (2, 3)


def test_a_job_without_primitive_record_is_refused_clearly(service, client):
    job_id = _foreign_job(client, "raw-jobs")
    with pytest.raises(HaiquInputError) as caught:
        service.job(job_id)
    message = str(caught.value)
    assert job_id in message
    assert f"client.get_job('{job_id}').quantum_results" in message
    assert "HaiquSampler or HaiquEstimator" in message


def test_an_unknown_job_is_not_found(service):
    with pytest.raises(NotFoundError):
        service.job("jb-00000000-0000-0000-0000-000000000000")


# -- jobs() ----------------------------------------------------------------------------------


def test_jobs_lists_the_primitives_jobs_newest_first(service, client):
    name = f"service-jobs-{uuid.uuid4().hex[:8]}"
    options = {"experiment_name": name, "default_shots": 16}
    qc = QuantumCircuit(1, 1)
    qc.x(0)
    qc.measure(0, 0)
    sampled = HaiquSampler("aer_simulator", client=client, options=options).run([qc])
    sampled.result()
    foreign = _foreign_job(client, name)
    estimated = HaiquEstimator("aer_simulator", client=client, options=options).run(
        [(QuantumCircuit(1), "Z")]
    )
    estimated.result()

    jobs = service.jobs(experiment_name=name)
    assert [job.job_id() for job in jobs] == [estimated.job_id(), sampled.job_id()]
    assert foreign not in [job.job_id() for job in jobs]
    assert jobs[0].result()[0].data.evs == estimated.result()[0].data.evs
    assert jobs[1].result()[0].data.c.get_counts() == {"1": 16}
    assert [job.job_id() for job in service.jobs(limit=2, experiment_name=name)] == [
        estimated.job_id()  # the newest two are the estimator's and the foreign job
    ]


def test_jobs_default_to_the_primitives_default_experiment(service, client):
    qc = QuantumCircuit(1, 1)
    qc.measure(0, 0)
    job = HaiquSampler("aer_simulator", client=client).run([qc], shots=8)
    job.result()
    assert service.jobs(limit=1)[0].job_id() == job.job_id()


def test_jobs_of_a_mistyped_experiment_are_none_and_create_nothing(client):
    from qiskit_haiqu import HaiquService

    before = {e.name for e in client.list_experiments()}
    with HaiquService(client=client) as service:
        assert service.jobs(experiment_name="no-such-experiment-xyz") == []
    assert {e.name for e in client.list_experiments()} == before
    assert client.list_experiments("no-such-experiment-xyz") == []
