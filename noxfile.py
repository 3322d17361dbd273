"""Developer tasks: `nox -s tests`, `nox -s lint`, `nox -s bench`, `nox -s docs`."""

import os
import subprocess
from pathlib import Path

import nox
from nox.command import CommandFailed

nox.options.sessions = ["tests", "lint"]


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

    Full run (the report states how long it took): stores the run as its CPU's file
    docs/benchmarks/results/<cpu>.json, writes docs/benchmarks/latest.md and its
    charts, and rewrites the speed blocks of README.md and docs/index.md.
    `nox -s bench -- --quick`: a subset of rows, 2 rounds, one seed (about 6
    minutes), reported to .benchmarks/quick/latest.md only. Other arguments go to
    pytest (e.g. `-k 784-16-10`); a run with them leaves README.md and the docs alone.
    Prints NOISY when a fastmlp row spread by more than 20 % between rounds.
    """
    session.install("-e", ".[dev,plot,bench]")

    args = list(session.posargs)
    quick = "--quick" in args
    if quick:
        args.remove("--quick")
    name = _run_name() + ("-quick" if quick else "")
    env = {"FASTMLP_BENCH_QUICK": "1" if quick else "0"}
    failed = None
    try:
        session.run(
            "python", "-m", "pytest", "benchmarks", "--benchmark-only",
            f"--benchmark-save={name}", "--benchmark-storage=.benchmarks",
            "--benchmark-sort=fullname", "--benchmark-columns=rounds",
            *args, env=env,
        )
    except CommandFailed as exc:
        failed = exc  # still write the report of what was measured, then fail
    command = "nox -s bench" + (" -- " + " ".join(session.posargs) if session.posargs else "")
    report = ["python", "benchmarks/report.py", "--name", name, "--command", command]
    if quick or args:
        report += ["--out", str(Path(".benchmarks") / ("quick" if quick else "partial"))]
    else:
        report.append("--pages")
    output = session.run(*report, silent=True) or ""
    print(output)
    if "NOISY RUN" in output:
        session.warn("NOISY run: a fastmlp row spread by more than 20 % between rounds; "
                     "re-run on a quiet machine before quoting the figures")
    if failed is not None:
        session.error(f"benchmarks failed: {failed}")


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
