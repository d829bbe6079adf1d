"""The emulator's devices: a noiseless Aer simulator and noisy fake IBM devices."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

from qiskit.providers import BackendV2
from qiskit_aer import AerSimulator
from qiskit_aer.noise import NoiseModel

from qiskit_haiqu.api.models import Device

__all__ = ["DEVICES", "EmulatedDevice", "device_by_id"]

STATEVECTOR_LIMIT = 24
NOISY_LIMIT = 12


@dataclass(frozen=True)
class EmulatedDevice:
    """A device the emulator offers."""

    id: str
    vendor: str
    fake_class: str | None  # qiskit_ibm_runtime.fake_provider class name, None for Aer
    qubit_limit: int

    @functools.cached_property
    def backend(self) -> BackendV2:
        """The backend whose target (and noise, for fake devices) the jobs use."""
        if self.fake_class is None:
            return AerSimulator()
        from qiskit_ibm_runtime import fake_provider

        return getattr(fake_provider, self.fake_class)()

    @functools.cached_property
    def simulator(self) -> AerSimulator:
        """The Aer simulator that executes jobs for this device."""
        if self.fake_class is None:
            return AerSimulator()
        return AerSimulator.from_backend(self.backend)

    @functools.cached_property
    def noise_model(self) -> NoiseModel | None:
        """The device's noise model (``None`` for the noiseless simulator)."""
        if self.fake_class is None:
            return None
        return NoiseModel.from_backend(self.backend)

    def model(self) -> Device:
        """The device as ``GET /devices`` describes it."""
        extra: dict[str, Any] = {}
        if self.fake_class is not None:
            target = self.backend.target
            extra["operation_names"] = sorted(target.operation_names)
            extra["coupling_map"] = [list(edge) for edge in target.build_coupling_map() or []]
            qubits = self.backend.num_qubits
        else:
            extra["operation_names"] = sorted(self.simulator.target.operation_names)
            extra["coupling_map"] = None
            qubits = self.qubit_limit
        return Device(
            id=self.id,
            vendor=self.vendor,
            name=self.id,
            qubits=qubits,
            status="online",
            simulator=True,
            pending_jobs=0,
            **extra,
        )


DEVICES: dict[str, EmulatedDevice] = {
    device.id: device
    for device in (
        EmulatedDevice("aer_simulator", "Haiqu", None, STATEVECTOR_LIMIT),
        EmulatedDevice("fake_brisbane", "IBM", "FakeBrisbane", NOISY_LIMIT),
        EmulatedDevice("fake_kyiv", "IBM", "FakeKyiv", NOISY_LIMIT),
        EmulatedDevice("fake_torino", "IBM", "FakeTorino", NOISY_LIMIT),
        EmulatedDevice("fake_fez", "IBM", "FakeFez", NOISY_LIMIT),
        EmulatedDevice("fake_algiers", "IBM", "FakeAlgiers", NOISY_LIMIT),
    )
}


def device_by_id(device_id: str) -> EmulatedDevice | None:
    """The device called ``device_id`` (an empty id means ``aer_simulator``)."""
    return DEVICES.get(device_id or "aer_simulator")
