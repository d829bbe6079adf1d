"""The Sphinx documentation builds with warnings as errors and documents what it must."""

from __future__ import annotations

import html
import importlib
import re
import subprocess
import sys
from pathlib import Path

import pytest
from once import once_per_run

import qiskit_haiqu
from qiskit_haiqu import ErrorMitigationOptions, EstimatorOptions, SamplerOptions
from qiskit_haiqu.cli import build_parser

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
EXAMPLES = ROOT / "examples"
TUTORIALS = DOCS / "tutorials"


class Build:
    """The outcome of one ``sphinx-build`` run."""

    def __init__(self, returncode: int, output: str, out: Path) -> None:
        self.returncode = returncode
        self.output = output
        self.out = out

    def page(self, name: str) -> str:
        """The text of a built page: tags stripped, entities decoded."""
        path = self.out / f"{name}.html"
        assert path.exists(), f"{path} was not built:\n{self.output}"
        return html.unescape(re.sub(r"<[^>]+>", "", path.read_text(encoding="utf-8")))

    def raw(self, name: str) -> str:
        """The HTML of a built page."""
        return (self.out / f"{name}.html").read_text(encoding="utf-8")


def _sphinx(out: Path) -> dict[str, object]:
    command = [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-b", "html"]
    completed = subprocess.run(
        [*command, str(DOCS), str(out)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        cwd=ROOT,
    )
    return {"returncode": completed.returncode, "output": completed.stdout + completed.stderr}


@pytest.fixture(scope="session")
def build(tmp_path_factory: pytest.TempPathFactory, worker_id: str) -> Build:
    """The HTML docs, built once in the run (``once_per_run``)."""
    out, built = once_per_run(tmp_path_factory, worker_id, "docs-html", _sphinx)
    return Build(int(built["returncode"]), str(built["output"]), out)


def test_docs_build_without_warnings(build):
    assert build.returncode == 0, build.output


def test_api_page_documents_every_public_name(build):
    page = build.raw("api")
    assert 'id="qiskit_haiqu.HaiquSampler.run"' in page
    assert 'id="qiskit_haiqu.HaiquEstimator.run"' in page
    assert 'id="qiskit_haiqu.HaiquJob.result"' in page
    assert 'id="qiskit_haiqu.emulator.EmulatorServer"' in page
    missing = [name for name in qiskit_haiqu.__all__ if f'id="qiskit_haiqu.{name}"' not in page]
    assert not missing, f"add these names of qiskit_haiqu.__all__ to docs/api.rst: {missing}"


def _code_lines(path: Path) -> list[str]:
    return [line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def test_getting_started_includes_the_vqe_example(build):
    page = build.page("getting_started")
    for command in ('pip install -e ".[emulator]" && qiskit-haiqu demo', "python -m pytest"):
        assert command in page
    for variable in ("HAIQU_API_URL", "HAIQU_API_KEY", 'url="local"'):
        assert variable in page
    missing = [line for line in _code_lines(EXAMPLES / "vqe_h2.py") if line not in page]
    assert not missing, f"examples/vqe_h2.py is not included whole: {missing[:3]}"


def _included_examples(page: Path) -> set[str]:
    text = page.read_text(encoding="utf-8")
    return {
        Path(target).name
        for target in re.findall(r"^\.\. literalinclude:: (\S+)", text, flags=re.MULTILINE)
        if Path(target).parent.name == "examples"
    }


@pytest.mark.parametrize("example", sorted(p.name for p in EXAMPLES.glob("*.py")))
def test_every_example_has_a_tutorial_that_includes_it(build, example):
    pages = [p for p in sorted(TUTORIALS.glob("*.rst")) if example in _included_examples(p)]
    assert pages, (
        f"examples/{example} has no tutorial: add docs/tutorials/{Path(example).stem}.rst "
        f"with '.. literalinclude:: ../../examples/{example}' and list it in "
        "docs/tutorials/index.rst"
    )
    text = build.page(f"tutorials/{pages[0].stem}")
    missing = [line for line in _code_lines(EXAMPLES / example) if line not in text]
    assert not missing, f"examples/{example} is not shown whole: {missing[:3]}"


def test_options_page_lists_every_option(build):
    page = build.page("options")
    for model in (SamplerOptions, EstimatorOptions, ErrorMitigationOptions):
        missing = [name for name in model.model_fields if name not in page]
        assert not missing, f"{model.__name__} fields missing from docs/options.rst: {missing}"


def test_cli_page_shows_every_command(build):
    page = build.page("cli")
    parser = build_parser()
    commands = next(a.choices for a in parser._actions if hasattr(a, "choices") and a.choices)
    for name in commands:
        assert f"qiskit-haiqu {name}" in page
        assert f"usage: qiskit-haiqu {name}" in page
    for code in ("0", "1", "2"):
        assert code in page


def test_errors_page_replaces_the_markdown_file(build):
    assert not (DOCS / "errors.md").exists()
    page = build.page("errors")
    for name in ("JobTimeoutError", "InvalidRequestError", "HaiquInputError"):
        assert name in page


def test_the_architecture_page_names_only_what_exists():
    """Every ``module:function`` hop and every module path on the page is in the code."""
    text = (DOCS / "architecture.rst").read_text()
    hops = set(re.findall(r"``(qiskit_haiqu[\w.]*):([\w.]+)``", text))
    assert len(hops) > 30
    missing = []
    for module_name, qualname in sorted(hops):
        target: object = importlib.import_module(module_name)
        for part in qualname.split("."):
            target = getattr(target, part, None)
        if target is None:
            missing.append(f"{module_name}:{qualname}")
    paths = set(re.findall(r"``((?:translate|api|primitives)/\w+\.py)``", text))
    missing += [p for p in sorted(paths) if not (ROOT / "qiskit_haiqu" / p).is_file()]
    assert not missing, f"docs/architecture.rst names what the code no longer has: {missing}"
