"""Developer tasks: `nox -s tests`, `nox -s lint`, `nox -s bench`, `nox -s docs`."""

import os
import subprocess
from pathlib import Path

import nox
from nox.command import CommandFailed

nox.options.sessions = ["tests", "lint"]

# A regression beyond this (in the median) fails `nox -s bench -- --compare`.
BENCH_COMPARE_FAIL = "median:15%"
# The PyTorch peer: a CPU build of this release lies on this machine kind's disk.
# An unpinned `torch` would pull a multi-GB CUDA build, so it is never installed.
TORCH_PEER = "torch==2.13.0"


@nox.session
def tests(session: nox.Session) -> None:
    """Run the test suite, slow tests included."""
    session.install("-e", ".[dev]")
    session.run("python", "-m", "pytest", *session.posargs)
    session.run("python", "-m", "pytest", "-m", "slow", *session.posargs)


@nox.session
def lint(session: nox.Session) -> None:
    """ruff check of the whole tree."""
    session.install("ruff")
    session.run("ruff", "check", ".")


def _run_name() -> str:
    """Name of the saved run: the commit it measured, '+dirty' with local changes."""
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(["git", "diff", "--quiet", "HEAD"], capture_output=True).returncode
    except (OSError, subprocess.CalledProcessError):
        return "bench"
    return f"{commit}{'-dirty' if dirty else ''}"


@nox.session(reuse_venv=True)
def bench(session: nox.Session) -> None:
    """Run the benchmark suites, save the run under .benchmarks/ and write the report.

    `nox -s bench -- --compare` also compares with the last saved run and fails on
    a median regression beyond 15 %. Other arguments go to pytest (e.g. `-k epoch`).
    Writes docs/benchmarks/latest.md and docs/benchmarks/throughput.png.
    """
    session.install("-e", ".[dev,plot]")
    try:
        session.install(TORCH_PEER)
    except CommandFailed:
        session.warn(f"could not install {TORCH_PEER}: the PyTorch peer will be skipped")

    args = list(session.posargs)
    compare = "--compare" in args
    if compare:
        args.remove("--compare")
        args += ["--benchmark-compare", f"--benchmark-compare-fail={BENCH_COMPARE_FAIL}"]
    name = _run_name()
    failed = None
    try:
        session.run(
            "python", "-m", "pytest", "benchmarks", "--benchmark-only",
            f"--benchmark-save={name}", "--benchmark-storage=.benchmarks",
            "--benchmark-sort=fullname", "--benchmark-columns=median,iqr,min,rounds",
            *args,
        )
    except CommandFailed as exc:
        failed = exc  # still write the report of what was measured, then fail
    command = "nox -s bench" + (" -- " + " ".join(session.posargs) if session.posargs else "")
    session.run("python", "benchmarks/report.py", "--name", name, "--command", command)
    if failed is not None:
        session.error(f"benchmarks failed{' or regressed' if compare else ''}: {failed}")


@nox.session
def docs(session: nox.Session) -> None:
    """Build the documentation site into site/ with `mkdocs build --strict`.

    Any warning (a broken link or cross-reference, a missing snippet such as the
    benchmark report docs/benchmarks/latest.md) fails the build. Arguments go to
    mkdocs, e.g. `nox -s docs -- --site-dir /tmp/site`.
    """
    session.install("-e", ".[docs]")
    env = {}
    # The gallery's scripts load MNIST; without network, name a folder mirror of
    # the original files in FASTMLP_MIRROR (this checkout's ../shared/data is
    # used when it exists).
    shared = Path(__file__).resolve().parent.parent / "shared" / "data"
    if "FASTMLP_MIRROR" not in os.environ and shared.is_dir():
        env["FASTMLP_MIRROR"] = str(shared)
    session.run("mkdocs", "build", "--strict", *session.posargs, env=env)
