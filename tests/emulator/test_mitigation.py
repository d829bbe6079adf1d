"""Readout-error mitigation: the inverse itself, and what ``use_mitigation`` does over HTTP."""

from __future__ import annotations

import math

import numpy as np
import pytest
from qiskit import QuantumCircuit, transpile
from qiskit.quantum_info import Pauli
from qiskit_aer import AerSimulator
from qiskit_aer.noise import NoiseModel, ReadoutError
from qiskit_ibm_runtime.fake_provider import FakeManilaV2
from shared_circuits import ghz

from qiskit_haiqu.emulator.mitigation import (
    ReadoutErrors,
    apply_inverse,
    final_measurements,
    mitigate_distribution,
)

from ._support import bell

# P(measured | prepared): p(1|0) = 0.1, p(0|1) = 0.2, i.e. A = [[0.9, 0.2], [0.1, 0.8]].
ASYMMETRIC = np.array([[0.9, 0.2], [0.1, 0.8]])


def _symmetric(p: float) -> np.ndarray:
    return np.array([[1 - p, p], [p, 1 - p]])


def _tvd(dist: dict[str, float], ideal: dict[str, float]) -> float:
    keys = set(dist) | set(ideal)
    return 0.5 * sum(abs(dist.get(k, 0.0) - ideal.get(k, 0.0)) for k in keys)


# The inverse, by hand ------------------------------------------------------------------------


def test_one_qubit_inverse_by_hand():
    inverse = np.linalg.inv(ASYMMETRIC)  # (1 / 0.7) [[0.8, -0.2], [-0.1, 0.9]]
    # ideal (0.5, 0.5) is measured as A @ (0.5, 0.5) = (0.55, 0.45)
    assert np.allclose(apply_inverse([0, 1], [0.55, 0.45], [(0, inverse)]), [0.5, 0.5])
    # ideal |1> is measured as (0.2, 0.8)
    assert np.allclose(apply_inverse([1, 0], [0.8, 0.2], [(0, inverse)]), [1.0, 0.0])
    # (0.95, 0.05) is "better than perfect": ((0.76 - 0.01) / 0.7, (-0.095 + 0.045) / 0.7)
    quasi = apply_inverse([0, 1], [0.95, 0.05], [(0, inverse)])
    assert np.allclose(quasi, [0.75 / 0.7, -0.05 / 0.7])
    assert math.isclose(quasi.sum(), 1.0)


def test_two_qubit_inverse_by_hand():
    # Bell state read out with p = 0.1 on bit 0 and p = 0.2 on bit 1:
    # p(00) = p(11) = 0.5 * 0.9 * 0.8 + 0.5 * 0.1 * 0.2 = 0.37, p(01) = p(10) = 0.13.
    inverses = [(0, np.linalg.inv(_symmetric(0.1))), (1, np.linalg.inv(_symmetric(0.2)))]
    quasi = apply_inverse([0b00, 0b01, 0b10, 0b11], [0.37, 0.13, 0.13, 0.37], inverses)
    assert np.allclose(quasi, [0.5, 0.0, 0.0, 0.5])
    # and it is the dense tensored inverse (bit 1 is the left factor) on any distribution
    probs = np.random.default_rng(3).dirichlet(np.ones(4))
    inverse = np.kron(np.linalg.inv(ASYMMETRIC), np.linalg.inv(_symmetric(0.1)))
    dense = inverse @ probs
    mixed = [(0, inverses[0][1]), (1, np.linalg.inv(ASYMMETRIC))]
    assert np.allclose(apply_inverse([0, 1, 2, 3], probs, mixed), dense)
    # keys wider than 64 bits take the same path
    wide = apply_inverse([(1 << 100) | k for k in range(4)], probs, mixed)
    assert np.allclose(wide, dense)


def test_unobserved_partners_count_as_zero_and_the_support_stays_observed():
    # only 00 and 01 observed: bit 0 is inverted exactly, bit 1 has no partner, then renormalise
    inverses = [(0, np.linalg.inv(_symmetric(0.1))), (1, np.linalg.inv(_symmetric(0.2)))]
    quasi = apply_inverse([0b00, 0b01], [0.9, 0.1], inverses)
    assert np.allclose(quasi, [1.0, 0.0])


def test_mitigate_distribution_follows_the_clbit_to_qubit_map():
    noise = NoiseModel()
    noise.add_readout_error(ReadoutError(_symmetric(0.2)), [0])
    noise.add_readout_error(ReadoutError(_symmetric(0.1)), [1])
    errors = ReadoutErrors.from_noise_model(noise)
    assert errors.attenuation(0) == pytest.approx(0.6)
    assert errors.attenuation(1) == pytest.approx(0.8)
    assert errors.attenuation(2) == 1.0
    assert errors.pauli_attenuation("ZIZ", [1, 0, 2]) == pytest.approx(0.8)  # Z on qubits 1, 2
    measured = {0b00: 0.37, 0b01: 0.13, 0b10: 0.13, 0b11: 0.37}
    # clbit 0 reads qubit 1 (p = 0.1), clbit 1 reads qubit 0 (p = 0.2): the hand example above
    mitigated = mitigate_distribution(measured, {0: 1, 1: 0}, errors)
    assert np.allclose([mitigated[k] for k in range(4)], [0.5, 0.0, 0.0, 0.5])
    # no readout error on the measured qubits: returned as is
    assert mitigate_distribution(measured, {0: 2, 1: 3}, errors) == measured
    assert not ReadoutErrors.from_noise_model(None)


def test_final_measurements_maps_each_clbit_to_its_last_measured_qubit():
    circuit = QuantumCircuit(3, 3)
    circuit.measure(0, 2)
    circuit.measure(1, 0)
    circuit.measure(2, 0)  # overwrites clbit 0
    assert final_measurements(circuit) == {2: 0, 0: 2}
    with circuit.if_test((circuit.clbits[1], 1)):
        circuit.measure(1, 2)  # clbit 2 may be rewritten: no longer mitigated
    assert final_measurements(circuit) == {0: 2}


# Over HTTP --------------------------------------------------------------------------------


def _on_fake_manila(exp_id: str, circuit_id: str, shots: int, seed: int, **extra: object) -> dict:
    """A ``POST /run`` body for one circuit on fake_manila with a fixed simulator seed."""
    return {
        "experiment_id": exp_id,
        "circuit_ids": [circuit_id],
        "device_id": "fake_manila",
        "shots": shots,
        "options": {"seed_simulator": seed},
        **extra,
    }


def _plain_and_mitigated(api, **body: object) -> tuple[dict, dict]:
    """The finished job of ``body`` without and with ``use_mitigation``."""
    return api.run(**body), api.run(**body, use_mitigation=True)


def test_sampler_mitigation_brings_a_fake_device_ghz_closer_to_ideal(api, exp_id):
    circuit = api.upload(exp_id, ghz(3))
    plain, fixed = _plain_and_mitigated(api, **_on_fake_manila(exp_id, circuit, 4000, 21))
    (raw,), (mitigated,) = plain["quantum_results"], fixed["quantum_results"]
    ideal = {"000": 0.5, "111": 0.5}
    assert set(mitigated) == set(raw)  # the observed outcomes, nothing invented
    assert math.isclose(sum(mitigated.values()), 1.0, abs_tol=1e-9)
    assert all(abs(v * 4000 - round(v * 4000)) < 1e-9 for v in raw.values())
    assert not all(abs(v * 4000 - round(v * 4000)) < 1e-9 for v in mitigated.values())
    # readout error puts ~15% of the weight elsewhere; mitigation removes most of it
    assert _tvd(raw, ideal) > 0.1
    assert _tvd(mitigated, ideal) < 0.5 * _tvd(raw, ideal)


def test_sampler_mitigation_uses_each_clbits_physical_qubit(api, exp_id):
    # |11111> with a permuted clbit order: every physical qubit of fake_manila, each with its
    # own readout error (1.4% to 9.6%); a wrong qubit for a clbit leaves a visible bias.
    circuit = QuantumCircuit(5, 5)
    circuit.x(range(5))
    for qubit in range(5):
        circuit.measure(qubit, (qubit + 2) % 5)
    circuit_id = api.upload(exp_id, circuit)
    body = _on_fake_manila(exp_id, circuit_id, 8000, 11)

    def zero_marginals(dist: dict[str, float]) -> np.ndarray:
        return np.array([sum(v for k, v in dist.items() if k[-1 - b] == "0") for b in range(5)])

    plain, fixed = _plain_and_mitigated(api, **body)
    (raw,), (mitigated,) = plain["quantum_results"], fixed["quantum_results"]
    assert zero_marginals(raw).max() > 0.05
    assert np.abs(zero_marginals(mitigated)).max() < 0.01


def test_mitigation_changes_nothing_on_the_noiseless_simulator(api, exp_id):
    sample = api.upload(exp_id, ghz(3))
    estimate = api.upload(exp_id, ghz(2, measure=False))
    body = {"experiment_id": exp_id, "shots": 500, "options": {"seed_simulator": 4}}
    for extra in (
        {"circuit_ids": [sample]},
        {"circuit_ids": [estimate], "observables": [[[["ZZ", "XX"], [1.0, 0.5]]]]},
    ):
        plain, mitigated = _plain_and_mitigated(api, **body, **extra)
        assert mitigated["quantum_results"] == plain["quantum_results"]
        assert mitigated["info"] == plain["info"]


def test_readout_mitigation_can_be_switched_off(api, exp_id):
    circuit = api.upload(exp_id, bell())
    body = _on_fake_manila(exp_id, circuit, 1000, 8)
    plain = api.run(**body)["quantum_results"]
    switched_off = {"readout_mitigation": False}
    body["options"] = {"seed_simulator": 8, "error_mitigation_options": switched_off}
    assert api.run(**body, use_mitigation=True)["quantum_results"] == plain
    body["options"] = {"error_mitigation_options": {"readout_mitigation": "no"}}
    response = api.http.post("/run", json={**body, "use_mitigation": True})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "options", "error_mitigation_options"]


def _zz_without_readout_error() -> tuple[float, float]:
    """Bell <ZZ> under fake_manila's gate noise only, and the readout factor of its qubits.

    The circuit is laid out as the emulator does it (optimization_level=1, seed_transpiler=0).
    """
    backend = FakeManilaV2()
    transpiled = transpile(
        ghz(2, measure=False), backend=backend, optimization_level=1, seed_transpiler=0
    )
    physical = transpiled.layout.final_index_layout()
    transpiled.save_expectation_value(Pauli("ZZ"), physical, label="zz")
    noise = NoiseModel.from_backend(backend, readout_error=False)
    value = AerSimulator(noise_model=noise, method="density_matrix").run(transpiled).result()
    factor = math.prod(1 - 2 * backend.target["measure"][(q,)].error for q in physical)
    return float(value.data()["zz"]), factor


def test_estimator_readout_attenuation_and_its_mitigation_on_a_fake_device(api, exp_id):
    circuit = api.upload(exp_id, ghz(2, measure=False))
    body = _on_fake_manila(exp_id, circuit, 8000, 17, observables=[[[["ZZ"], [1.0]]]])
    plain, mitigated = _plain_and_mitigated(api, **body)
    ((raw,),), ((raw_std,),) = plain["quantum_results"], plain["info"]["uncertainty"]
    ((value,),), ((std,),) = mitigated["quantum_results"], mitigated["info"]["uncertainty"]
    reference, factor = _zz_without_readout_error()
    assert 0.8 < factor < 0.95
    # unmitigated: gate noise times the readout factor, far below the gate-noise value
    assert abs(raw - factor * reference) < 4 * raw_std
    assert raw < reference - 8 * raw_std
    # mitigated: unbiased w.r.t. readout, with the standard error grown by 1 / factor
    assert abs(value - reference) < 4 * std
    assert std == pytest.approx(raw_std / factor, rel=1e-9)


def test_user_noise_model_readout_error_is_mitigated_too(api, exp_id):
    noise = NoiseModel()
    noise.add_all_qubit_readout_error(ReadoutError(_symmetric(0.1)))
    options = {"noise_model": noise.to_dict(serializable=True), "seed_simulator": 6}
    sample = api.upload(exp_id, bell())
    estimate = api.upload(exp_id, ghz(2, measure=False))
    body = {"experiment_id": exp_id, "shots": 8000, "options": options}
    plain, fixed = _plain_and_mitigated(api, **body, circuit_ids=[sample])
    raw, mitigated = plain["quantum_results"][0], fixed["quantum_results"][0]
    ideal = {"00": 0.5, "11": 0.5}
    assert _tvd(raw, ideal) > 0.15  # 1 - 0.9**2 = 19% of the weight moved
    assert _tvd(mitigated, ideal) < 0.03
    observables = [[[["ZZ"], [1.0]]]]
    plain, fixed = _plain_and_mitigated(
        api, **body, circuit_ids=[estimate], observables=observables
    )
    ((raw_zz,),), ((raw_std,),) = plain["quantum_results"], plain["info"]["uncertainty"]
    ((zz,),), ((std,),) = fixed["quantum_results"], fixed["info"]["uncertainty"]
    assert abs(raw_zz - 0.64) < 4 * raw_std  # (1 - 2 * 0.1) ** 2
    assert abs(zz - 1.0) < 4 * std + 1e-9
