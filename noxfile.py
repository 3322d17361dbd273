"""Developer tasks: `nox -s tests`, `nox -s lint`."""

import nox

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
