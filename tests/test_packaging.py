"""The release artefacts: the sdist and the wheel build, pass ``twine check``, carry the
license and metadata, and the wheel installs and runs in a fresh virtual environment.

The build runs without isolation (no download), on a copy of the source tree so that nothing
is written into the repository; the dev extra brings setuptools >= 77, build and twine.
"""

from __future__ import annotations

import email
import shutil
import subprocess
import sys
import sysconfig
import tarfile
import zipfile
from dataclasses import dataclass
from email.message import Message
from pathlib import Path

import pytest
from once import once_per_run

import qiskit_haiqu

ROOT = Path(__file__).resolve().parents[1]
NOT_SOURCES = shutil.ignore_patterns(
    ".git",
    ".venv",
    ".hypothesis",
    ".mypy_cache",
    ".ruff_cache",
    ".pytest_cache",
    "__pycache__",
    "*.egg-info",
    "_build",
    "build",
    "dist",
)


@dataclass
class Artefacts:
    source: Path
    wheel: Path
    sdist: Path
    log: str


def _run(command: list[str], **kwargs: object) -> subprocess.CompletedProcess[str]:
    completed = subprocess.run(  # noqa: S603 - fixed commands on our own files
        command, capture_output=True, text=True, timeout=120, check=False, **kwargs
    )
    assert completed.returncode == 0, " ".join(command) + "\n" + completed.stdout + completed.stderr
    return completed


def _build(base: Path) -> dict[str, str]:
    source = base / "src"
    shutil.copytree(ROOT, source, ignore=NOT_SOURCES)
    out = base / "dist"
    built = _run(
        [sys.executable, "-m", "build", "--no-isolation", "--outdir", str(out), str(source)]
    )
    (wheel,) = out.glob("*.whl")
    (sdist,) = out.glob("*.tar.gz")
    return {"wheel": wheel.name, "sdist": sdist.name, "log": built.stdout + built.stderr}


@pytest.fixture(scope="session")
def artefacts(tmp_path_factory: pytest.TempPathFactory, worker_id: str) -> Artefacts:
    """The sdist and the wheel, built once in the run (``once_per_run``)."""
    base, built = once_per_run(tmp_path_factory, worker_id, "packaging", _build)
    out = base / "dist"
    return Artefacts(base / "src", out / built["wheel"], out / built["sdist"], built["log"])


def _metadata(wheel: Path) -> Message:
    with zipfile.ZipFile(wheel) as archive:
        (name,) = [n for n in archive.namelist() if n.endswith(".dist-info/METADATA")]
        return email.message_from_bytes(archive.read(name))


def test_the_build_is_clean_and_named_after_the_version(artefacts):
    version = qiskit_haiqu.__version__
    assert artefacts.wheel.name == f"qiskit_haiqu-{version}-py3-none-any.whl"
    assert artefacts.sdist.name == f"qiskit_haiqu-{version}.tar.gz"
    # The deprecated license table (or a License classifier next to an SPDX expression) warns.
    assert "SetuptoolsDeprecationWarning" not in artefacts.log
    lines = artefacts.log.lower().splitlines()
    assert not [
        line for line in lines if "license" in line and ("warn" in line or "deprec" in line)
    ]


def test_twine_accepts_both_artefacts(artefacts):
    checked = _run(
        [
            sys.executable,
            "-m",
            "twine",
            "check",
            "--strict",
            str(artefacts.wheel),
            str(artefacts.sdist),
        ]
    )
    assert checked.stdout.count("PASSED") == 2


def test_the_wheel_metadata_says_what_pypi_shows(artefacts):
    metadata = _metadata(artefacts.wheel)
    assert metadata["Name"] == "qiskit-haiqu"
    assert metadata["Version"] == qiskit_haiqu.__version__
    assert tuple(int(p) for p in metadata["Metadata-Version"].split(".")) >= (2, 4)
    assert metadata["License-Expression"] == "Apache-2.0"
    assert metadata.get_all("License-File") == ["LICENSE"]
    assert metadata["Requires-Python"] == ">=3.10"
    classifiers = metadata.get_all("Classifier")
    assert "Typing :: Typed" in classifiers
    assert "Programming Language :: Python :: 3.10" in classifiers
    assert not [c for c in classifiers if c.startswith("License ::")]  # the expression says it
    assert "Homepage, https://haiqu.ai" in metadata.get_all("Project-URL")
    assert metadata["Description-Content-Type"] == "text/markdown"
    assert "# qiskit-haiqu" in metadata.get_payload()


def test_the_wheel_holds_every_module_the_license_and_py_typed(artefacts):
    with zipfile.ZipFile(artefacts.wheel) as archive:
        names = set(archive.namelist())
    package = artefacts.source / "qiskit_haiqu"
    modules = {path.relative_to(artefacts.source).as_posix() for path in package.rglob("*.py")}
    assert modules <= names, sorted(modules - names)
    assert "qiskit_haiqu/py.typed" in names
    version = qiskit_haiqu.__version__
    assert f"qiskit_haiqu-{version}.dist-info/licenses/LICENSE" in names
    assert not [n for n in names if n.startswith(("tests/", "bench/", "examples/"))]
    with zipfile.ZipFile(artefacts.wheel) as archive:
        license_text = archive.read(f"qiskit_haiqu-{version}.dist-info/licenses/LICENSE")
    assert license_text == (ROOT / "LICENSE").read_bytes()
    assert b"Apache License\n                           Version 2.0, January 2004" in license_text


def test_the_sdist_holds_the_license_readme_and_sources(artefacts):
    prefix = f"qiskit_haiqu-{qiskit_haiqu.__version__}/"
    with tarfile.open(artefacts.sdist) as archive:
        names = set(archive.getnames())
    for name in ("LICENSE", "README.md", "pyproject.toml", "qiskit_haiqu/__init__.py"):
        assert prefix + name in names, name


def test_the_wheel_installs_and_runs_in_a_fresh_environment(artefacts, tmp_path):
    venv = tmp_path / "venv"
    _run([sys.executable, "-m", "venv", "--without-pip", str(venv)])
    python = venv / "bin" / "python"
    _run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps"]
        + ["--no-index", "--quiet", str(artefacts.wheel)]
    )
    # The dependencies come from this environment, after the fresh one's own site-packages.
    site = _run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"])
    fresh_site = Path(site.stdout.strip())
    (fresh_site / "_outer_dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    probe = (
        "import importlib.metadata, qiskit_haiqu; "
        "print(qiskit_haiqu.__file__); "
        "print(importlib.metadata.version('qiskit-haiqu')); "
        "print(qiskit_haiqu.HaiquSampler.__name__)"
    )
    imported = _run([str(python), "-c", probe], cwd=tmp_path)
    location, version, name = imported.stdout.split()
    assert Path(location).is_relative_to(fresh_site)
    assert version == qiskit_haiqu.__version__
    assert name == "HaiquSampler"
    command = venv / "bin" / "qiskit-haiqu"
    helped = _run([str(command), "--help"], cwd=tmp_path)
    assert helped.stdout.startswith("usage: qiskit-haiqu")
    listed = _run([str(command), "devices", "--url", "local", "--json"], cwd=tmp_path)
    assert '"aer_simulator"' in listed.stdout
