"""A local Haiqu-compatible emulator: the Haiqu REST API served by FastAPI, run by qiskit-aer."""

from qiskit_haiqu.emulator.embedded import shared_emulator, start_embedded
from qiskit_haiqu.emulator.server import EmulatorServer, serve
from qiskit_haiqu.emulator.settings import EmulatorSettings

__all__ = ["EmulatorServer", "EmulatorSettings", "serve", "shared_emulator", "start_embedded"]
