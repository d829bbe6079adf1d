"""The installed version of qiskit-haiqu."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("qiskit-haiqu")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0.0.0"
