"""Sphinx configuration of the qiskit-haiqu documentation.

Build it with ``python -m sphinx -W --keep-going -b html docs docs/_build/html``
(``tests/test_docs.py`` does exactly that, warnings as errors). No extension fetches anything
from the network.

Besides autodoc, two local directives keep the reference pages from drifting from the code:
``haiqu-options`` renders the fields of an options model (name, type, default, constraints,
the field's docstring) straight from the pydantic model, and ``haiqu-cli-help`` prints the
``--help`` of every ``qiskit-haiqu`` command from the real argument parsers.
"""

from __future__ import annotations

import argparse
import importlib
import inspect
import os
import re
import sys
import types
from pathlib import Path
from typing import Annotated, Any, Union, get_args, get_origin

from docutils import nodes
from docutils.parsers.rst import directives
from docutils.statemachine import StringList
from sphinx.application import Sphinx
from sphinx.pycode import ModuleAnalyzer
from sphinx.util import inspect as sphinx_inspect
from sphinx.util.docutils import SphinxDirective
from sphinx.util.typing import stringify_annotation

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from qiskit_haiqu import __version__  # noqa: E402

project = "qiskit-haiqu"
author = "qiskit-haiqu contributors"
copyright = "qiskit-haiqu contributors"
version = __version__
release = __version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",
    "sphinx.ext.viewcode",
]

root_doc = "index"
source_suffix = {".rst": "restructuredtext"}
exclude_patterns = ["_build"]

# Google-style docstrings only.
napoleon_google_docstring = True
napoleon_numpy_docstring = False
napoleon_use_rtype = False
napoleon_attr_annotations = True

# The class docstring, then the constructor's ``Args:``.
autoclass_content = "both"
autodoc_member_order = "bysource"
autodoc_typehints = "description"
autodoc_typehints_description_target = "documented_params"
# Sphinx 9's new autodoc writes annotations back onto pydantic's BaseModel, after which
# importing FastAPI (the emulator) fails (sphinx-doc/sphinx#14337); the class-based
# implementation does not. Older Sphinx versions ignore this setting.
autodoc_use_legacy_class_based = True
# Qiskit's pub-like unions are pages long when expanded: keep their names. Sphinx shows an
# alias nested in a generic (``Iterable[SamplerPubLike]``) by its repr, hence the __repr__.
autodoc_type_aliases = {"SamplerPubLike": "SamplerPubLike", "EstimatorPubLike": "EstimatorPubLike"}
if hasattr(sphinx_inspect, "TypeAliasForwardRef"):
    sphinx_inspect.TypeAliasForwardRef.__repr__ = lambda self: str(self.name)

html_theme = "alabaster"
html_title = f"qiskit-haiqu {release}"
html_theme_options = {
    "description": "Qiskit V2 primitives on the Haiqu quantum cloud",
    "fixed_sidebar": True,
}
html_show_sourcelink = False


# -- the haiqu-options directive -------------------------------------------------------------

_CONSTRAINTS = (
    ("ge", ">= {}"),
    ("gt", "> {}"),
    ("le", "<= {}"),
    ("lt", "< {}"),
    ("min_length", "at least {} characters"),
    ("max_length", "at most {} characters"),
)


def _attribute_docs(model: type) -> dict[str, str]:
    """The docstrings written under each field, looked up along the model's MRO."""
    docs: dict[str, str] = {}
    for klass in reversed(model.__mro__):
        module = getattr(klass, "__module__", "")
        if not module.startswith("qiskit_haiqu"):
            continue
        found = ModuleAnalyzer.for_module(module).find_attr_docs()
        for (owner, name), lines in found.items():
            if owner == klass.__qualname__:
                docs[name] = " ".join(line.strip() for line in lines if line.strip())
    return docs


def _type_text(annotation: Any) -> str:
    """A short type: no ``Annotated`` metadata, no module paths."""
    origin = get_origin(annotation)
    if origin is Annotated:
        return _type_text(get_args(annotation)[0])
    if origin in (Union, types.UnionType):
        return " | ".join(_type_text(arg) for arg in get_args(annotation))
    text = stringify_annotation(annotation, "fully-qualified-except-typing")
    return re.sub(r"\b(?:[A-Za-z_]\w*\.)+(?=[A-Za-z_])", "", text)


def _default(field: Any) -> str:
    if field.default_factory is not None:
        value = field.default_factory()
        value = value.model_dump(exclude_none=True) if hasattr(value, "model_dump") else value
    else:
        value = field.default
    return f"``{value!r}``"


def _constraints(field: Any) -> str:
    parts = []
    for item in field.metadata:
        for attribute, text in _CONSTRAINTS:
            value = getattr(item, attribute, None)
            if (attribute, value) == ("min_length", 1):
                parts.append("not empty")
            elif value is not None:
                parts.append(text.format(value))
        if getattr(item, "strict", None):
            parts.append("no type conversion")
    return ", ".join(parts)


class OptionsTable(SphinxDirective):
    """``.. haiqu-options:: qiskit_haiqu.SamplerOptions``: a table of the model's fields.

    With the ``:own:`` flag, only the fields the class itself declares (not inherited ones).
    """

    required_arguments = 1
    option_spec = {"own": directives.flag}

    def run(self) -> list[nodes.Node]:
        """Build the table from the model's fields and their docstrings."""
        module_name, _, class_name = self.arguments[0].rpartition(".")
        model = getattr(importlib.import_module(module_name), class_name)
        self.env.note_dependency(inspect.getfile(model))
        docs = _attribute_docs(model)
        lines = [
            ".. list-table::",
            "   :header-rows: 1",
            "   :widths: 22 18 15 15 30",
            "",
            "   * - option",
            "     - type",
            "     - default",
            "     - allowed",
            "     - meaning",
        ]
        inherited = {name for base in model.__bases__ for name in getattr(base, "model_fields", {})}
        for name, field in model.model_fields.items():
            if "own" in self.options and name in inherited:
                continue
            lines += [
                f"   * - ``{name}``",
                f"     - ``{_type_text(field.annotation)}``",
                f"     - {_default(field)}",
                f"     - {_constraints(field)}",
                f"     - {docs.get(name, '')}",
            ]
        container = nodes.container(classes=["haiqu-options"])
        self.state.nested_parse(StringList(lines, source=self.arguments[0]), 0, container)
        return [container]


# -- the haiqu-cli-help directive ------------------------------------------------------------


def _command_parsers() -> dict[str, argparse.ArgumentParser]:
    """``qiskit-haiqu`` and each of its commands, with the parser its ``--help`` prints."""
    from qiskit_haiqu.cli import build_parser
    from qiskit_haiqu.emulator.__main__ import add_arguments

    parser = build_parser()
    parsers = {"qiskit-haiqu": parser}
    for action in parser._actions:  # argparse keeps the subcommands here
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                parsers[f"qiskit-haiqu {name}"] = sub
    # ``emulator`` hands its options to the emulator's own parser: show that one.
    emulator = argparse.ArgumentParser(
        prog="qiskit-haiqu emulator", description="Serve the local Haiqu emulator."
    )
    add_arguments(emulator)
    parsers["qiskit-haiqu emulator"] = emulator
    return parsers


class CliHelp(SphinxDirective):
    """``.. haiqu-cli-help::``: the ``--help`` text of every command, as literal blocks."""

    def run(self) -> list[nodes.Node]:
        """Render each parser's help at a fixed width."""
        from qiskit_haiqu import cli

        self.env.note_dependency(inspect.getfile(cli))
        previous = os.environ.get("COLUMNS")
        os.environ["COLUMNS"] = "92"
        try:
            helps = {name: p.format_help() for name, p in _command_parsers().items()}
        finally:
            if previous is None:
                del os.environ["COLUMNS"]
            else:
                os.environ["COLUMNS"] = previous
        result: list[nodes.Node] = []
        for name, text in helps.items():
            result.append(nodes.rubric(text=name, ids=[nodes.make_id(f"help {name}")]))
            block = nodes.literal_block(text.rstrip(), text.rstrip())
            block["language"] = "text"
            result.append(block)
        return result


def setup(app: Sphinx) -> dict[str, Any]:
    """Register the local directives."""
    app.add_directive("haiqu-options", OptionsTable)
    app.add_directive("haiqu-cli-help", CliHelp)
    return {"parallel_read_safe": True}
