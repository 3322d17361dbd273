"""What the measurement scripts in docs/scripts share: a measured snippet with
its caption (date, command, machine, load average), written into docs/_snippets."""

import datetime
import os
import platform
from pathlib import Path

SNIPPETS = Path(__file__).resolve().parents[1] / "_snippets"


def cpu_model() -> str:
    """The processor's model name (Linux), else what the platform module says."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine() -> str:
    """The CPU, cores, OS, Python, NumPy and the BLAS pools with their threads."""
    import numpy
    from threadpoolctl import threadpool_info

    blas = sorted({f"{pool['internal_api']} with {pool['num_threads']} "
                   f"thread{'s' if pool['num_threads'] != 1 else ''}"
                   for pool in threadpool_info() if pool["user_api"] == "blas"})
    return (f"{cpu_model()}, {os.cpu_count()} cores ({platform.machine()}, "
            f"{platform.system()}), "
            f"Python {platform.python_version()}, NumPy {numpy.__version__}"
            f"{', ' + ', '.join(blas) if blas else ''}")


def load() -> str:
    """The 1, 5 and 15 minute load averages, or n/a."""
    try:
        return ", ".join(f"{v:.2f}" for v in os.getloadavg())
    except OSError:
        return "n/a"


def write(name: str, body: str, command: str, load_before: str, note: str) -> None:
    """Write docs/_snippets/NAME.md: the body, then a caption saying how it was measured."""
    caption = (
        f"Measured on {datetime.date.today().isoformat()} with `{command}` on {machine()}; "
        f"{note} Load average (1, 5, 15 min) {load_before} before, {load()} after."
    )
    SNIPPETS.mkdir(parents=True, exist_ok=True)
    path = SNIPPETS / f"{name}.md"
    path.write_text(body.rstrip() + "\n\n" + caption + "\n", encoding="utf-8")
    print(path.read_text(), flush=True)
