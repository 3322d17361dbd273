"""Every ```python block of the documentation (docs/**/*.md and README.md) runs.

The blocks of one page run in order in one namespace, as a reader would run
them, in a temporary working directory, with ``FASTMLP_MIRROR`` pointing at the
loopback mirror of the real data and ``FASTMLP_DATA_DIR`` at a fresh cache (the
``mirror_env`` fixture), so ``load_mnist()`` works without network. Pages whose
examples need the data are skipped when the data files are absent.

Blocks that must not run use another fence info string (```text, ```bash).
A page containing the HTML comment ``<!-- docs-test: slow -->`` (or listed in
``SLOW_PAGES``) is marked slow: its examples take more than about 10 s.
``fastmlp ...`` command lines in ```bash blocks are checked against the CLI's
argument parser, so the docs cannot drift from the command line.
"""

from __future__ import annotations

import re
import shlex
import warnings
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGES = sorted((ROOT / "docs").rglob("*.md")) + [ROOT / "README.md"]
SLOW_MARK = "<!-- docs-test: slow -->"
# README.md is not ours to annotate: its example trains 10 epochs on all of MNIST.
SLOW_PAGES = {"README.md"}
FENCE = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})(?P<info>[^\n`]*)$")


def code_blocks(text: str, language: str) -> list[tuple[int, str]]:
    """(first line number, source) of every fenced block whose info string is ``language``."""
    blocks = []
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        match = FENCE.match(lines[i])
        if not match:
            i += 1
            continue
        indent, fence = match["indent"], match["fence"]
        info = match["info"].strip().split()
        body, start = [], i + 2
        i += 1
        while i < len(lines) and not (
            lines[i].strip().startswith(fence) and set(lines[i].strip()) == {fence[0]}
        ):
            body.append(lines[i][len(indent):] if lines[i].startswith(indent) else lines[i])
            i += 1
        i += 1
        if info and info[0] == language:
            blocks.append((start, "\n".join(body) + "\n"))
    return blocks


def _page_id(page: Path) -> str:
    return page.relative_to(ROOT).as_posix()


def _python_pages() -> list:
    params = []
    for page in PAGES:
        text = page.read_text(encoding="utf-8")
        if not code_blocks(text, "python"):
            continue
        slow = SLOW_MARK in text or _page_id(page) in SLOW_PAGES
        marks = [pytest.mark.slow] if slow else []
        params.append(pytest.param(page, marks=marks, id=_page_id(page)))
    return params


def test_pages_found() -> None:
    assert ROOT / "docs" / "index.md" in PAGES
    assert _python_pages(), "no ```python blocks found in the docs"


def test_code_blocks_parser() -> None:
    text = "a\n```python\nx = 1\n```\n```text\nno\n```\n    ```python\n    y = 2\n    ```\n"
    assert code_blocks(text, "python") == [(3, "x = 1\n"), (9, "y = 2\n")]


@pytest.mark.parametrize("page", _python_pages())
def test_python_examples_run(
    page: Path, mirror_env: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import numba

    monkeypatch.chdir(tmp_path)
    namespace: dict = {"__name__": "__docs__"}
    threads = numba.get_num_threads()  # an example may pin them, as a user's script would
    try:
        for line, source in code_blocks(page.read_text(encoding="utf-8"), "python"):
            code = compile(source, f"{_page_id(page)}:{line}", "exec")
            with warnings.catch_warnings():
                # examples run few epochs on purpose
                warnings.filterwarnings(
                    "ignore", message="Stochastic Optimizer: Maximum iterations")
                exec(code, namespace)
    finally:
        numba.set_num_threads(threads)


def _cli_commands() -> list:
    params = []
    for page in PAGES:
        text = page.read_text(encoding="utf-8")
        for line, source in code_blocks(text, "bash"):
            # a line ending in a backslash continues on the next one
            source = re.sub(r"\\\n\s*", " ", source)
            for offset, command in enumerate(source.splitlines()):
                command = command.split("#", 1)[0].strip()
                for part in re.split(r"&&|;|\|", command):
                    words = shlex.split(part)
                    if words[:1] == ["fastmlp"]:
                        params.append(pytest.param(
                            words[1:], id=f"{_page_id(page)}:{line + offset}"
                        ))
    return params


@pytest.mark.parametrize("argv", _cli_commands())
def test_cli_examples_parse(argv: list[str]) -> None:
    from fastmlp.cli import build_parser

    parser = build_parser()
    if argv in (["--help"], ["-h"]) or argv[-1:] in (["--help"], ["-h"]):
        return
    args = parser.parse_args(argv)
    assert args.command


# -- docstring examples ------------------------------------------------------------------


def _doctests() -> list:
    """Every docstring with ``>>>`` examples in the fastmlp package, one param each."""
    import doctest
    import importlib
    import pkgutil

    import fastmlp

    finder = doctest.DocTestFinder(exclude_empty=True)
    params = []
    for info in pkgutil.walk_packages(fastmlp.__path__, "fastmlp."):
        module = importlib.import_module(info.name)
        for test in finder.find(module, info.name):
            if test.examples:
                params.append(pytest.param(test, id=test.name))
    return params


@pytest.mark.parametrize("doctest_case", _doctests())
def test_docstring_examples_run(
    doctest_case, mirror_env: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each docstring's examples run as a reader would, with the real data on the mirror."""
    import doctest

    monkeypatch.chdir(tmp_path)
    doctest_case.globs = dict(doctest_case.globs)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    report: list[str] = []
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Stochastic Optimizer: Maximum iterations")
        result = runner.run(doctest_case, out=report.append)
    assert result.failed == 0, "".join(report)


def test_public_docstrings_have_examples() -> None:
    names = {case.values[0].name for case in _doctests()}
    for name in ("fastmlp.estimator.MLPClassifier", "fastmlp.regressor.MLPRegressor",
                 "fastmlp.datasets.load_dataset",
                 "fastmlp.fitted.load", "fastmlp.sweeps.sweep"):
        assert name in names, f"{name} has no Examples section"
