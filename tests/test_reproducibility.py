"""What the Practical tips page promises about ``random_state``.

The same seed, data, dtype and BLAS thread count give bit-identical weights,
also in a new process. (A different thread count may change the last bits:
the page says so, from the measurement in docs/scripts/practical_tips.py.)
"""

import subprocess
import sys

import numpy as np

FIT = """
import sys, warnings
import numpy as np
from threadpoolctl import threadpool_limits
from fastmlp import MLPClassifier

rng = np.random.default_rng(42)
x = rng.integers(0, 256, size=(2000, 64), dtype=np.uint8)
y = (x[:, :32].sum(axis=1) > x[:, 32:].sum(axis=1)).astype(int)
warnings.simplefilter("ignore")
with threadpool_limits(limits=int(sys.argv[1]), user_api="blas"):
    model = MLPClassifier(hidden_layer_sizes=(32,), batch_size=64, max_iter=2,
                          random_state=7).fit(x, y)
sys.stdout.write(np.concatenate([c.ravel() for c in model.coefs_]).tobytes().hex())
"""


def _weights(threads: int) -> np.ndarray:
    out = subprocess.run([sys.executable, "-c", FIT, str(threads)], check=True,
                         capture_output=True, text=True).stdout
    return np.frombuffer(bytes.fromhex(out), dtype=np.float32)


def test_same_seed_in_a_new_process_gives_identical_weights() -> None:
    first, second = _weights(1), _weights(1)
    assert first.size == 64 * 32 + 32 * 2
    assert np.array_equal(first, second)
