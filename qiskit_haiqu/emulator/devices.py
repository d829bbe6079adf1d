"""The emulator's devices: a noiseless ``aer_simulator`` and noisy ``fake_*`` devices.

Fake devices are built from :mod:`qiskit_ibm_runtime.fake_provider` backends. Loading one
(and above all its noise model) takes seconds, so backends and simulators are loaded on
first use and cached for the whole process: every emulator in it shares them (none is
changed after it is built), so a second emulator does not build them again.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from qiskit.providers import BackendV2
from qiskit_aer import AerSimulator
from qiskit_aer.noise import NoiseModel

from qiskit_haiqu.api.models import Device

__all__ = ["AER_SIMULATOR", "DeviceCatalog", "DeviceSpec", "MPS_METHOD"]

AER_SIMULATOR = "aer_simulator"
MPS_METHOD = "matrix_product_state"

# Haiqu device id -> fake_provider class name. Every id but fake_manila is one Haiqu lists;
# fake_manila (5 qubits, quick to load) is an emulator extra for fast tests.
_FAKES: dict[str, str] = {
    "fake_manila": "FakeManilaV2",
    "fake_montreal": "FakeMontrealV2",
    "fake_algiers": "FakeAlgiers",
    "fake_brisbane": "FakeBrisbane",
    "fake_kyiv": "FakeKyiv",
    "fake_torino": "FakeTorino",
    "fake_fez": "FakeFez",
}
_LAST_UPDATED = datetime(2025, 1, 1, tzinfo=timezone.utc)

_SHARED_LOCK = threading.Lock()
_BACKENDS: dict[str, BackendV2] = {}
"""Fake backends by device id, shared by every catalog of the process."""
_SIMULATORS: dict[tuple[str, str | None, int | None], AerSimulator] = {}
"""Simulators by (device id, method, bond dimension), shared by every catalog of the process."""


@dataclass(frozen=True)
class DeviceSpec:
    """What the emulator knows about a device before loading anything.

    Attributes:
        id: The Haiqu device id.
        fake_class: Name of the ``fake_provider`` class, or ``None`` for ``aer_simulator``.
    """

    id: str
    fake_class: str | None

    @property
    def noisy(self) -> bool:
        """Whether the device simulates a noisy QPU."""
        return self.fake_class is not None


class DeviceCatalog:
    """Device descriptions, backends and simulators, loaded lazily and cached."""

    def __init__(self, max_statevector_qubits: int = 24) -> None:
        self._specs = {AER_SIMULATOR: DeviceSpec(AER_SIMULATOR, None)} | {
            name: DeviceSpec(name, cls) for name, cls in _FAKES.items()
        }
        self._max_sv = max_statevector_qubits
        self._lock = threading.Lock()
        self._models: dict[str, Device] = {}

    def ids(self) -> list[str]:
        """All device ids."""
        return list(self._specs)

    def spec(self, device_id: str) -> DeviceSpec | None:
        """The spec of a device, or ``None`` when unknown."""
        return self._specs.get(device_id)

    def backend(self, device_id: str) -> BackendV2:
        """The fake backend of a ``fake_*`` device (loaded on first use in the process)."""
        spec = self._specs[device_id]
        if spec.fake_class is None:
            raise ValueError(f"{device_id} has no fake backend")
        with _SHARED_LOCK:
            backend = _BACKENDS.get(device_id)
            if backend is None:
                from qiskit_ibm_runtime import fake_provider

                backend = getattr(fake_provider, spec.fake_class)()
                _BACKENDS[device_id] = backend
            return backend

    def num_qubits(self, device_id: str) -> int:
        """The device's qubit count (``aer_simulator``: its statevector limit)."""
        if self._specs[device_id].fake_class is None:
            return self._max_sv
        return int(self.backend(device_id).num_qubits)

    def model(self, device_id: str) -> Device:
        """The wire description of a device."""
        with self._lock:
            cached = self._models.get(device_id)
        if cached is not None:
            return cached
        spec = self._specs[device_id]
        if spec.fake_class is None:
            simulator = self.simulator(device_id, None, None)
            model = Device(
                id=device_id,
                vendor="Qiskit Aer",
                name="Aer simulator (local emulator)",
                qubits=self._max_sv,
                status="online",
                simulator=True,
                last_updated=_LAST_UPDATED,
                pending_jobs=0,
                operation_names=sorted(simulator.target.operation_names),
                coupling_map=None,
            )
        else:
            backend = self.backend(device_id)
            coupling = backend.coupling_map
            model = Device(
                id=device_id,
                vendor="IBM (fake, local emulator)",
                name=f"{backend.name} noisy simulator",
                qubits=int(backend.num_qubits),
                status="online",
                simulator=True,
                last_updated=_LAST_UPDATED,
                pending_jobs=0,
                operation_names=sorted(backend.target.operation_names),
                coupling_map=[list(edge) for edge in coupling.get_edges()] if coupling else None,
            )
        with self._lock:
            self._models[device_id] = model
        return model

    def simulator(self, device_id: str, method: str | None, bond_dim: int | None) -> AerSimulator:
        """The device's simulator (noisy for fake devices) with this method, built once in the
        process."""
        key = (device_id, method, bond_dim)
        with _SHARED_LOCK:
            simulator = _SIMULATORS.get(key)
        if simulator is not None:
            return simulator
        options: dict[str, Any] = {}
        if method is not None:
            options["method"] = method
        if bond_dim is not None:
            options["matrix_product_state_max_bond_dimension"] = bond_dim
        if self._specs[device_id].fake_class is None:
            simulator = AerSimulator(**options)
        else:
            simulator = AerSimulator.from_backend(self.backend(device_id), **options)
        with _SHARED_LOCK:
            return _SIMULATORS.setdefault(key, simulator)

    @staticmethod
    def with_noise(
        noise_model: NoiseModel, method: str | None, bond_dim: int | None
    ) -> AerSimulator:
        """A fresh ``aer_simulator`` with a user-supplied noise model."""
        options: dict[str, Any] = {"noise_model": noise_model}
        if method is not None:
            options["method"] = method
        if bond_dim is not None:
            options["matrix_product_state_max_bond_dimension"] = bond_dim
        return AerSimulator(**options)
