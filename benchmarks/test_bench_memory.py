"""Memory: the peak resident set of `fastmlp train` (the default preset), target < 300 MB.

The command runs in a fresh process that reports its own peak once training and
the test evaluation are done: the whole process (interpreter, NumPy, Numba and
its compiled kernels, MNIST as uint8, the model and its buffers). On Linux that
is ``VmHWM`` of ``/proc/self/status``, the high-water mark of this program's
memory; ``getrusage``'s ``ru_maxrss`` would also count the parent's pages the
child had before ``exec`` (365 MB against 257 MB when pytest had loaded MNIST
itself). Elsewhere ``ru_maxrss`` is the fallback.
"""

from __future__ import annotations

import json
import subprocess
import sys

from benchutil import REPO

TARGET_MB = 300
_TRAIN = """
import json, resource, sys
from fastmlp.cli import main
code = main(sys.argv[1:])
try:
    with open("/proc/self/status") as status:
        peak = next(int(line.split()[1]) * 1024 for line in status
                    if line.startswith("VmHWM:"))
except (OSError, StopIteration):
    scale = 1 if sys.platform == "darwin" else 1024  # bytes on macOS, KiB elsewhere
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale
print(json.dumps({"exit": code, "peak_bytes": peak}))
"""


def test_fastmlp_train_peak_memory(benchmark, mnist_cache, smoke):
    args = ["train", "--epochs", "1"] if smoke else ["train"]
    result: dict = {}

    def measure() -> None:
        done = subprocess.run([sys.executable, "-c", _TRAIN, *args], capture_output=True,
                              text=True, timeout=600, cwd=REPO)
        assert done.returncode == 0, done.stderr[-3000:]
        result.update(json.loads(done.stdout.strip().splitlines()[-1]))

    benchmark.group = "memory"
    benchmark.pedantic(measure, rounds=1, iterations=1, warmup_rounds=0)
    peak_mb = result["peak_bytes"] / 1e6
    benchmark.extra_info.update(suite="memory", command="fastmlp " + " ".join(args),
                                peak_mb=peak_mb, target_mb=TARGET_MB)
    assert result["exit"] == 0
    assert 50 < peak_mb < TARGET_MB, f"peak RSS {peak_mb:.0f} MB"
