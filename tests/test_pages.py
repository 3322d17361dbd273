"""What the pages say against what the project is: every module in the design's map,
every speed figure from the benchmark report, no stale engine statements, and a
first README example that runs without warnings."""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
REPORT = ROOT / "docs" / "benchmarks" / "latest.md"
GENERATED = re.compile(r"<!-- bench:start -->.*?<!-- bench:end -->", re.S)
# A speed figure: samples per second, or a ratio on a line about speed.
RATE = re.compile(r"(\d[\d,]*(?:\.\d+)?)\s*(k|M)?\s*(samples/s|samples per second)")
RATIO = re.compile(r"(?<![\w.])(\d+(?:\.\d+)?)\s?[x×](?![\w\d])")
SPEED_WORDS = re.compile(r"fast|speed|slower|samples|throughput|PyTorch|scikit-learn|naive",
                         re.I)


def _pages() -> list[Path]:
    """README.md and the docs' pages, without the changelog (history), the report and the
    generated snippets (each written by a script with its own dated caption)."""
    pages = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
    skip = ("docs/changelog.md", "docs/benchmarks/latest.md", "docs/_snippets/",
            "docs/generated/")
    return [p for p in pages if not p.relative_to(ROOT).as_posix().startswith(skip)]


def speed_figures(text: str) -> list[str]:
    """The speed figures a page's text quotes outside its generated blocks."""
    figures = []
    for line in GENERATED.sub("", text).splitlines():
        figures += [m.group(0) for m in RATE.finditer(line)]
        if SPEED_WORDS.search(line):
            figures += [m.group(0) for m in RATIO.finditer(line)]
    return figures


def test_speed_figures_are_the_reports():
    """Figures live in the blocks written from the report, or quote it exactly."""
    report = REPORT.read_text()
    stray = {}
    for page in _pages():
        figures = [f for f in speed_figures(page.read_text())
                   if f.split(" samples")[0].replace("x", "×") not in report]
        if figures:
            stray[page.relative_to(ROOT).as_posix()] = figures
    assert not stray, (
        f"speed figures typed by hand, not in {REPORT.relative_to(ROOT)}: {stray}; quote the "
        "report's figures or link to it")


def test_the_figure_finder_finds_figures():
    text = ("fastmlp runs 1.2 M samples/s, 3.5x PyTorch.\n<!-- bench:start -->\n"
            "444 k samples/s\n<!-- bench:end -->\nthe cosine ends at 0.15x the rate")
    assert speed_figures(text) == ["1.2 M samples/s", "3.5x"]


@pytest.mark.parametrize("stale", ["NumPy's BLAS", "engine v2", "uses every core"])
def test_no_stale_engine_statements(stale):
    assert not [p.name for p in _pages() if stale in p.read_text()]


def test_no_commit_hashes_in_pages():
    hashes = re.compile(r"\b(?=[0-9a-f]*[a-f])(?=[0-9a-f]*\d)[0-9a-f]{7,40}\b")
    found = {p.name: hashes.findall(GENERATED.sub("", p.read_text())) for p in _pages()}
    assert not {name: h for name, h in found.items() if h}


def test_design_map_names_every_module():
    design = (ROOT / "docs" / "design.md").read_text()
    section = design.split("## Module map", 1)[1].split("\n## ", 1)[0]
    package = ROOT / "fastmlp"
    modules = sorted(
        ".".join(p.relative_to(package).with_suffix("").parts).removesuffix(".__init__")
        for p in package.rglob("*.py") if p.relative_to(package).parts != ("__init__.py",)
    )
    missing = [m for m in modules if f"`fastmlp.{m}`" not in section]
    assert not missing, f"docs/design.md's module map lacks {missing}"


def test_design_text_blocks_fit_the_page():
    design = (ROOT / "docs" / "design.md").read_text()
    blocks = re.findall(r"```text\n(.*?)```", design, re.S)
    assert blocks and all(len(line) <= 76 for b in blocks for line in b.splitlines())


@pytest.mark.slow  # two epochs on 20,000 images
def test_readme_first_example_warns_nothing(mirror_env):
    from test_docs import code_blocks

    source = code_blocks((ROOT / "README.md").read_text(), "python")[0][1]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        exec(compile(source, "README.md", "exec"), {"__name__": "__readme__"})


def test_gallery_output_is_shown_as_plain_text():
    import importlib.util

    spec = importlib.util.spec_from_file_location("hooks", ROOT / "docs" / "hooks.py")
    hooks = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(hooks)
    page = ("```{.python }\nprint(1)\n```\nOut:\n{: .mkd-glr-script-out }\n\n"
            "```{.shell .mkd-glr-script-out-disp }\ntest accuracy 0.9\n```\n")
    shown = hooks.on_page_markdown(page, page=None, config=None, files=None)
    assert "```{.text .mkd-glr-script-out-disp }" in shown and "```{.python }" in shown
    assert "docs/hooks.py" in (ROOT / "mkdocs.yml").read_text()
