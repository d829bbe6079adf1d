"""HaiquBackend: targets from the service's devices, run() as counts, mode=backend, ISA circuits."""

from __future__ import annotations

import warnings
from datetime import datetime, timezone

import numpy as np
import pytest
from qiskit import QuantumCircuit
from qiskit.circuit import ClassicalRegister, QuantumRegister
from qiskit.primitives import StatevectorEstimator, StatevectorSampler
from qiskit.providers import JobError, JobStatus
from qiskit.providers.fake_provider import GenericBackendV2
from qiskit.quantum_info import SparsePauliOp, Statevector
from qiskit.result import Result
from qiskit.transpiler import generate_preset_pass_manager
from qiskit_aer import AerSimulator
from qiskit_ibm_runtime.fake_provider import FakeAlgiers, FakeManilaV2

from qiskit_haiqu import (
    HaiquBackend,
    HaiquBackendJob,
    HaiquClient,
    HaiquEstimator,
    HaiquInputError,
    HaiquSampler,
    HaiquService,
    InvalidRequestError,
)
from qiskit_haiqu.api.models import Device
from qiskit_haiqu.backend import device_target

API_KEY = "test-key-123"  # the session emulator's (tests/conftest.py)
SEED = 11


@pytest.fixture(scope="module")
def service(emulator):
    with HaiquClient(url=emulator.url, api_key=API_KEY) as client:
        yield HaiquService(client)


@pytest.fixture(scope="module")
def manila(service) -> HaiquBackend:
    return service.backend("fake_manila")


@pytest.fixture(scope="module")
def algiers(service) -> HaiquBackend:
    return service.backend("fake_algiers")


@pytest.fixture(scope="module")
def aer(service) -> HaiquBackend:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Aer's own instructions: tested below
        return service.backend("aer_simulator")


def _device(**fields) -> Device:
    base = {
        "id": "dev",
        "vendor": "test",
        "name": "a test device",
        "qubits": 3,
        "status": "online",
        "simulator": False,
        "last_updated": datetime(2025, 1, 1, tzinfo=timezone.utc),
        "operation_names": ["rz", "sx", "cx", "measure"],
        "coupling_map": [[0, 1], [1, 2]],
    }
    return Device(**(base | fields))


def _isa_ok(circuit: QuantumCircuit, backend: HaiquBackend) -> bool:
    """Every instruction is one the target supports on those qubits."""
    return all(
        instruction.operation.name == "barrier"
        or backend.target.instruction_supported(
            instruction.operation.name, tuple(circuit.find_bit(q).index for q in instruction.qubits)
        )
        for instruction in circuit.data
    )


def _tvd(a: dict[str, float], b: dict[str, float]) -> float:
    return 0.5 * sum(abs(a.get(k, 0.0) - b.get(k, 0.0)) for k in set(a) | set(b))


def _probs(counts: dict[str, int]) -> dict[str, float]:
    total = sum(counts.values())
    return {k: v / total for k, v in counts.items()}


# -- targets ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("device_id", "fake"), [("fake_manila", FakeManilaV2), ("fake_algiers", FakeAlgiers)]
)
def test_fake_device_target_is_the_ibm_backends(service, device_id, fake):
    backend = service.backend(device_id)
    reference = fake()
    assert backend.name == device_id
    assert backend.num_qubits == reference.num_qubits
    assert set(backend.operation_names) == set(reference.operation_names)
    assert sorted(backend.coupling_map.get_edges()) == sorted(reference.coupling_map.get_edges())
    for name in ("cx", "sx", "rz", "measure"):
        assert set(backend.target[name]) == set(reference.target[name]), name
    assert backend.unknown_operations == ()
    assert backend.simulator is True
    assert backend.max_circuits is None
    assert backend.options.shots == 1024


def test_aer_simulator_is_all_to_all_and_reports_aer_only_operations(service):
    with pytest.warns(UserWarning, match=r"aer_simulator lists \d+ operation") as caught:
        backend = service.backend("aer_simulator")
    assert caught[0].filename == __file__  # the warning points at the caller
    assert backend.coupling_map is None
    assert backend.num_qubits == service.client.get_device("aer_simulator").qubits
    for name in ("cx", "u", "rzz", "measure", "reset", "delay", "if_else", "for_loop", "store"):
        assert name in backend.operation_names, name
    for name in ("unitary", "kraus", "save_expval", "mcx"):
        assert name in backend.unknown_operations, name
        assert name not in backend.operation_names
    assert set(backend.unknown_operations).isdisjoint(backend.operation_names)
    listed = set(service.client.get_device("aer_simulator").operation_names)
    assert set(backend.operation_names) | set(backend.unknown_operations) == listed


def test_unknown_names_are_reported_never_guessed():
    device = _device(operation_names=["rz", "sx", "cx", "measure", "my_gate", "ccx", "barrier"])
    with pytest.warns(UserWarning, match="my_gate, ccx") as caught:
        backend = HaiquBackend(device, client=None)  # type: ignore[arg-type]
    assert len(caught) == 1
    assert backend.unknown_operations == ("my_gate", "ccx")  # ccx: which triples is unknown
    assert set(backend.operation_names) == {"rz", "sx", "cx", "measure"}
    assert set(backend.target["cx"]) == {(0, 1), (1, 2)}  # the edges as given, no reverse
    assert set(backend.target["rz"]) == {(0,), (1,), (2,)}


def test_without_a_coupling_map_every_gate_is_global():
    device = _device(simulator=True, coupling_map=None, operation_names=["ccx", "cx", "h"])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        target, unknown = device_target(device)
    assert unknown == []
    assert target.build_coupling_map() is None
    assert target.instruction_supported("ccx", (2, 0, 1))


def test_a_qpu_without_coupling_map_says_so():
    with pytest.warns(UserWarning, match="reports no coupling map"):
        backend = HaiquBackend(_device(coupling_map=None), client=None)  # type: ignore[arg-type]
    assert backend.coupling_map is None


def test_preset_pass_manager_output_is_what_the_device_accepts(algiers):
    circuit = QuantumCircuit(4)
    circuit.h(0)
    circuit.cx(0, 3)
    circuit.ccx(0, 1, 2)
    circuit.swap(1, 3)
    circuit.measure_all()
    isa = generate_preset_pass_manager(
        backend=algiers, optimization_level=1, seed_transpiler=SEED
    ).run(circuit)
    assert isa.num_qubits == 27
    assert _isa_ok(isa, algiers)
    assert not _isa_ok(circuit, algiers)  # the check can fail: the logical circuit is not ISA
    counts = HaiquSampler(mode=algiers).run([isa], shots=200).result()[0].data.meas.get_counts()
    assert sum(counts.values()) == 200


# -- run() -------------------------------------------------------------------------------------


def _registers() -> QuantumCircuit:
    """Deterministic, three registers of different widths: a=01, b=1, c=110."""
    qc = QuantumCircuit(QuantumRegister(4), ClassicalRegister(2, "a"), ClassicalRegister(1, "b"))
    qc.add_register(ClassicalRegister(3, "c"))
    qc.x([0, 2, 3])
    qc.measure([0, 1], [0, 1])
    qc.measure(2, 2)
    qc.measure([1, 2, 3], [3, 4, 5])
    return qc


def test_run_counts_are_keyed_as_aer_keys_them(aer):
    circuit = _registers()
    expected = AerSimulator().run(circuit, shots=50).result().get_counts()
    job = aer.run(circuit, shots=50)
    assert isinstance(job, HaiquBackendJob)
    result = job.result()
    assert isinstance(result, Result)
    assert result.get_counts() == expected == {"110 1 01": 50}
    assert result.get_counts(circuit) == expected
    assert result.results[0].shots == 50
    assert result.backend_name == "aer_simulator"
    assert result.job_id == job.job_id() == job.primitive_job.job_id()


def test_run_counts_agree_with_the_samplers_registers(aer):
    qc = QuantumCircuit(QuantumRegister(3), ClassicalRegister(1, "x"), ClassicalRegister(2, "y"))
    qc.h([0, 1])
    qc.cx(1, 2)
    qc.measure(0, 0)
    qc.measure([1, 2], [1, 2])
    job = aer.run([qc, _registers()], shots=400)
    counts = job.result().get_counts()
    pub = job.primitive_job.result()[0]
    assert len(counts) == 2
    assert sum(counts[0].values()) == 400
    for position, name in ((1, "x"), (0, "y")):  # key "y x": last register first
        marginal: dict[str, int] = {}
        for key, count in counts[0].items():
            part = key.split(" ")[position]
            marginal[part] = marginal.get(part, 0) + count
        assert marginal == pub.data[name].get_counts()
    assert set(counts[0]) <= {"00 0", "00 1", "11 0", "11 1"}
    assert counts[1] == {"110 1 01": 400}


def test_run_options(aer):
    aer.set_options(shots=64)
    try:
        assert sum(aer.run(_registers()).result().get_counts().values()) == 64
    finally:
        aer.set_options(shots=1024)
    with pytest.raises(HaiquInputError, match=r"'memory'.*valid ones are: shots"):
        aer.run(_registers(), memory=True)


def test_job_interface(aer):
    job = aer.run(_registers(), shots=10)
    job.result()
    assert job.status() == JobStatus.DONE
    assert job.done()
    assert job.backend() is aer
    assert job.cancel() is False  # already final
    with pytest.raises(JobError, match="submitted by backend.run"):
        job.submit()


# -- mode= -----------------------------------------------------------------------------------


@pytest.mark.parametrize("primitive", [HaiquSampler, HaiquEstimator])
def test_mode_backend_takes_device_and_client(manila, primitive):
    for made in (primitive(mode=manila), primitive(manila), primitive("fake_manila", mode=manila)):
        assert made.device_id == "fake_manila"
        assert made.client is manila.client
    assert primitive(mode=manila, client=manila.client).client is manila.client


def test_mode_backend_runs_on_its_device(manila, client):
    qc = QuantumCircuit(2)
    qc.x(0)
    qc.measure_all()
    job = HaiquSampler(mode=manila, options={"default_shots": 100}).run([qc])
    assert job.result().metadata["device_id"] == "fake_manila"
    assert client.get_job(job.job_id()).device_id == "fake_manila"
    estimator = HaiquEstimator(mode=manila, options={"default_shots": 100})
    values = estimator.run([(QuantumCircuit(2), "ZZ")]).result()[0].data.evs
    assert values > 0.5


@pytest.mark.parametrize("primitive", [HaiquSampler, HaiquEstimator])
def test_mode_contradictions_are_refused(manila, client, primitive):
    with pytest.raises(HaiquInputError, match=r"device_id='aer_simulator'.*pass one of them"):
        primitive("aer_simulator", mode=manila)
    with pytest.raises(HaiquInputError, match="client= only without mode="):
        primitive(mode=manila, client=client)


@pytest.mark.parametrize("primitive", [HaiquSampler, HaiquEstimator])
@pytest.mark.parametrize("kind", ["Session", "Batch"])
def test_runtime_sessions_and_batches_are_refused_with_what_to_do(primitive, kind):
    import qiskit_ibm_runtime

    mode = getattr(qiskit_ibm_runtime, kind)(backend=FakeManilaV2())
    try:
        with pytest.raises(HaiquInputError) as caught:
            primitive(mode=mode)
        with pytest.raises(HaiquInputError, match=f"does not take a qiskit-ibm-runtime {kind}"):
            primitive(mode)  # positionally, as SamplerV2(session)
    finally:
        mode.close()
    message = str(caught.value)
    assert message.startswith(f"{primitive.__name__} does not take a qiskit-ibm-runtime {kind}")
    assert "HaiquPrimitive" not in message
    assert "Each run() is one Haiqu job" in message
    assert "mode=HaiquService().backend(" in message
    assert "device_id=" in message


@pytest.mark.parametrize(
    ("mode", "named"),
    [
        (GenericBackendV2(2, seed=1), "GenericBackendV2"),
        (AerSimulator(), "AerSimulator"),
        ("aer_simulator", "str"),
        (object(), "object"),
    ],
)
def test_other_modes_are_refused(mode, named):
    with pytest.raises(
        HaiquInputError, match=rf"HaiquSampler takes a HaiquBackend as mode, not .*{named}"
    ):
        HaiquSampler(mode=mode)
    with pytest.raises(HaiquInputError, match="mode=HaiquService"):
        HaiquEstimator(mode=mode)


def test_the_fixed_constructor_contract_still_holds(client):
    sampler = HaiquSampler(device_id="aer_simulator", options={"default_shots": 7}, client=client)
    assert (sampler.device_id, sampler.options.default_shots) == ("aer_simulator", 7)
    estimator = HaiquEstimator(
        device_id="aer_simulator", options={"default_precision": 0.1}, client=client
    )
    assert estimator.device_id == "aer_simulator"
    assert HaiquSampler(client=client).device_id == "aer_simulator"
    for wrong in ("", 5):
        with pytest.raises(HaiquInputError, match="non-empty string"):
            HaiquSampler(device_id=wrong, client=client)


# -- ISA circuits on the emulator ------------------------------------------------------------


def _small() -> QuantumCircuit:
    """Four qubits, an answer that is neither uniform nor deterministic."""
    qc = QuantumCircuit(4)
    qc.ry(0.7, 0)
    qc.cx(0, 1)
    qc.h(2)
    qc.cry(1.1, 2, 3)
    qc.x(1)
    qc.measure_all()
    return qc


@pytest.mark.parametrize("width", [27, 127])
def test_isa_circuit_of_a_large_device_runs_on_aer_simulator(client, width):
    small = _small()
    isa = generate_preset_pass_manager(
        backend=GenericBackendV2(width, seed=SEED), optimization_level=1, seed_transpiler=SEED
    ).run(small)
    assert isa.num_qubits == width > client.get_device("aer_simulator").qubits
    shots = 8000
    sampler = HaiquSampler("aer_simulator", client=client, options={"default_shots": shots})
    mine = sampler.run([isa, small]).result()
    oracle = StatevectorSampler(seed=SEED).run([small], shots=shots).result()[0]
    exact = Statevector(small.remove_final_measurements(inplace=False)).probabilities_dict()
    isa_probs = _probs(mine[0].data.meas.get_counts())
    assert _tvd(isa_probs, _probs(oracle.data.meas.get_counts())) < 0.04
    assert _tvd(isa_probs, exact) < 0.03
    assert _tvd(isa_probs, _probs(mine[1].data.meas.get_counts())) < 0.04


def test_isa_estimator_on_aer_simulator_counts_the_observables_qubits(client):
    ghz = QuantumCircuit(4)
    ghz.h(0)
    for q in range(3):
        ghz.cx(q, q + 1)
    ghz.ry(0.4, 2)
    isa = generate_preset_pass_manager(
        backend=GenericBackendV2(27, seed=SEED), optimization_level=1, seed_transpiler=SEED
    ).run(ghz)
    observables = [SparsePauliOp(label) for label in ("ZZZZ", "XXXX", "IZIZ")]
    estimator = HaiquEstimator("aer_simulator", client=client, options={"default_precision": 0.01})
    mapped = [obs.apply_layout(isa.layout) for obs in observables]
    evs = estimator.run([(isa, mapped)]).result()[0].data.evs
    exact = StatevectorEstimator().run([(ghz, observables)]).result()[0].data.evs
    np.testing.assert_allclose(evs, exact, atol=0.05)


def test_isa_circuit_runs_on_a_fake_device_as_the_small_one_does(client, algiers):
    small = QuantumCircuit(5)
    small.x([0, 3])
    small.cx(0, 4)
    small.measure_all()
    isa_generic = generate_preset_pass_manager(
        backend=GenericBackendV2(27, seed=SEED), optimization_level=1, seed_transpiler=SEED
    ).run(small)
    isa_device = generate_preset_pass_manager(
        backend=algiers, optimization_level=1, seed_transpiler=SEED
    ).run(small)
    options = {"default_shots": 2000, "device_options": {"seed_simulator": SEED}}
    sampler = HaiquSampler("fake_algiers", client=client, options=options)
    results = sampler.run([small, isa_generic, isa_device]).result()
    dists = [_probs(r.data.meas.get_counts()) for r in results]
    for dist in dists:
        assert max(dist, key=dist.get) == "11001"  # noisy, but the answer dominates
        assert dist["11001"] > 0.8
    assert _tvd(dists[0], dists[1]) < 0.08
    assert _tvd(dists[0], dists[2]) < 0.08


def test_isa_widths_still_bounded(client):
    generic = GenericBackendV2(27, seed=SEED)
    isa = generate_preset_pass_manager(backend=generic, seed_transpiler=SEED).run(_small())
    with pytest.raises(InvalidRequestError, match="The circuit has 27 qubits; fake_manila has 5"):
        HaiquSampler("fake_manila", client=client).run([isa]).result()

    busy13 = QuantumCircuit(27, 13)  # acts on 13 qubits: too many for a noisy simulation
    busy13.h(range(13))
    busy13.measure(range(13), range(13))
    with pytest.raises(InvalidRequestError, match=r"acts on 13 of its 27 qubits; fake_algiers"):
        HaiquSampler("fake_algiers", client=client).run([busy13])
    busy25 = QuantumCircuit(30, 25)
    busy25.h(range(25))
    busy25.measure(range(25), range(25))
    with pytest.raises(
        InvalidRequestError,
        match=r"acts on 25 of its 30 qubits; aer_simulator \(statevector\) allows at most 24",
    ):
        HaiquSampler("aer_simulator", client=client).run([busy25])
    noisy = {"device_options": {"noise_model": {"errors": []}}}
    with pytest.raises(
        InvalidRequestError, match="aer_simulator with a noise model allows at most 12"
    ):
        HaiquSampler("aer_simulator", client=client, options=noisy).run([busy13])
    ten = QuantumCircuit(27)  # acts on 10 qubits, and the observable measures 3 others
    ten.h(range(10))
    observable = SparsePauliOp("I" * 14 + "ZZZ" + "I" * 10)
    estimator = HaiquEstimator("fake_algiers", client=client, options={"default_shots": 100})
    with pytest.raises(InvalidRequestError, match=r"acts on 13 of its 27 qubits; fake_algiers"):
        estimator.run([(ten, observable)])
    assert (
        estimator.run([(ten, SparsePauliOp("I" * 17 + "Z" * 10))]).result()[0].data.evs.shape == ()
    )
    full = QuantumCircuit(13)
    full.h(range(13))
    full.measure_all()
    with pytest.raises(InvalidRequestError, match=r"The circuit has 13 qubits; fake_algiers"):
        HaiquSampler("fake_algiers", client=client).run([full])


def test_skip_transpilation_runs_an_isa_circuit_as_it_is(manila, request_log):
    """The server receives the ISA circuit as it is; a circuit outside the device's
    instruction set is refused, naming the fix, instead of being silently transpiled."""
    qc = QuantumCircuit(2)
    qc.h(0)
    qc.cx(0, 1)
    qc.measure_all()
    isa = generate_preset_pass_manager(1, backend=manila, seed_transpiler=7).run(qc)
    options = {"device_options": {"skip_transpilation": True, "seed_simulator": 3}}
    sampler = HaiquSampler(mode=manila, options=options)
    counts = sampler.run([isa], shots=400).result()[0].data.meas.get_counts()
    assert counts.get("00", 0) + counts.get("11", 0) > 300  # a Bell pair, with device noise
    sent = [e for e in request_log.entries() if e["method"] == "POST" and e["path"] == "/run"]
    assert len(sent) == 1
    with pytest.raises(InvalidRequestError, match="not in fake_manila's instruction set"):
        sampler.run([qc], shots=10)  # h is not a fake_manila gate
