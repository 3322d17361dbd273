"""The API reference shows the defaults the code has.

mkdocstrings renders each documented parameter through griffe, which takes a
default from the docstring when it states one (``default=...``, or the first
value of a ``{...}`` choice set) and from the signature otherwise. These tests
parse every docstring of the modules the reference pages document, as the
site build does, and compare each rendered default with the signature: a
choice set must list the default first, and a required argument must not get
an invented default.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import griffe
import pytest

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = ROOT / "docs" / "reference"


def documented_objects() -> list[str]:
    """Paths named by ``::: fastmlp...`` directives of the reference pages (modules,
    classes or functions)."""
    names = set()
    for page in REFERENCE.glob("*.md"):
        names.update(re.findall(r"^:::\s+(fastmlp[\w.]*)", page.read_text(), flags=re.M))
    return sorted(names)


def _value(text: str | None):
    """A default as a Python value when it is a literal, else its text without spaces."""
    if text is None:
        return None
    text = str(text).strip()
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text.replace(" ", "")


def _functions(obj: griffe.Object):
    """Every function and class (for its constructor) under obj, aliases skipped."""
    for member in obj.members.values():
        if member.is_alias:
            continue
        if member.is_function or member.is_class:
            yield member
        if member.is_class:
            yield from _functions(member)


def rendered_defaults() -> list:
    loader = griffe.GriffeLoader(docstring_parser=griffe.Parser.numpy)
    package = loader.load("fastmlp")
    cases = []
    for path in documented_objects():
        root = package if path == "fastmlp" else package[path.removeprefix("fastmlp.")]
        objects = list(_functions(root))
        if root.is_class or root.is_function:
            objects.insert(0, root)
        for obj in objects:
            if obj.docstring is None:
                continue
            target = obj
            if obj.is_class:  # merge_init_into_class: the class documents __init__
                target = obj.members.get("__init__")
                if target is None or target.is_alias:
                    continue
            signature = {p.name: p.default for p in target.parameters}
            for section in obj.docstring.parse(griffe.Parser.numpy):
                if section.kind is not griffe.DocstringSectionKind.parameters:
                    continue
                for parameter in section.value:
                    if parameter.name not in signature:
                        continue
                    cases.append(pytest.param(
                        parameter.value, signature[parameter.name],
                        id=f"{obj.path}({parameter.name})",
                    ))
    return cases


def test_reference_pages_found() -> None:
    paths = documented_objects()
    assert "fastmlp.estimator.MLPClassifier" in paths and "fastmlp.engine.network" in paths
    ids = [case.id for case in rendered_defaults()]
    assert "fastmlp.estimator.MLPClassifier(activation)" in ids


@pytest.mark.parametrize(("rendered", "signature"), rendered_defaults())
def test_rendered_default_matches_signature(rendered, signature) -> None:
    if signature is None:
        assert rendered is None, f"a required argument is documented with default {rendered}"
    else:
        assert _value(rendered) == _value(signature)
