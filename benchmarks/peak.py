"""The machine's float32 FMA peak, the FLOPs a training sample needs, and a row's share.

    python benchmarks/peak.py [--threads 2]

Prints the measured peak as JSON. The benchmark run measures it once, in the
same run as the rows (``conftest.py`` stores it in the machine info), so a
row's share of the peak compares two figures from one machine in one state.

The peak is a Numba loop of independent multiply-adds on float32 vectors: a
block of accumulators held in vector registers, each updated ``acc = acc * a + b``
per pass, so every FMA unit has independent chains to overlap its latency with
(``BLOCKS``: three block sizes, the best counts). It runs
on each of ``threads`` Python threads at once (the kernel releases the GIL),
the thread count every system is given, so clock throttling under a full load
is in the figure too.
"""

from __future__ import annotations

import argparse
import json
import threading
import time

import numpy as np
from numba import njit

# float32 accumulators per chain block, one kernel each: 64 floats are 8 AVX2 registers,
# 128 and 256 are 8 and 16 AVX-512 ones; the best of the three is the peak, so one
# block spilling registers or leaving an FMA unit idle on some CPU does not matter.
BLOCKS = (64, 128, 256)
FLOPS_PER_FMA = 2


@njit(cache=True, nogil=True, fastmath={"contract"})
def _fma_passes(acc, a, b, passes, block):
    """``passes`` times: chunk = chunk * a + b, chunk by chunk of ``block`` floats.

    Inlined into a kernel with a constant ``block``, the inner loop unrolls into
    ``block / lanes`` independent FMA chains held in registers across the passes.
    """
    for j in range(0, acc.shape[0] - block + 1, block):
        chunk = acc[j:j + block]
        for _ in range(passes):
            for i in range(block):
                chunk[i] = chunk[i] * a + b
    return acc


@njit(cache=True, nogil=True, fastmath={"contract"})
def _fma_64(acc, a, b, passes):
    return _fma_passes(acc, a, b, passes, 64)


@njit(cache=True, nogil=True, fastmath={"contract"})
def _fma_128(acc, a, b, passes):
    return _fma_passes(acc, a, b, passes, 128)


@njit(cache=True, nogil=True, fastmath={"contract"})
def _fma_256(acc, a, b, passes):
    return _fma_passes(acc, a, b, passes, 256)


KERNELS = dict(zip(BLOCKS, (_fma_64, _fma_128, _fma_256), strict=True))


def _run_threads(kernel, block: int, threads: int, passes: int) -> float:
    """Seconds for ``threads`` threads each running ``passes`` passes over a block at once."""
    # a = b = 0.5 keeps every accumulator at its fixed point 1: no overflow, no denormals
    a, b = np.float32(0.5), np.float32(0.5)
    workers = [threading.Thread(target=kernel, args=(np.ones(block, np.float32), a, b, passes))
               for _ in range(threads)]
    started = time.perf_counter()
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return time.perf_counter() - started


def _calibrate(kernel, block: int, seconds: float) -> int:
    """Passes that take about ``seconds`` on this thread alone (no thread start-up in it)."""
    acc, a = np.ones(block, np.float32), np.float32(0.5)
    kernel(acc, a, a, 1)  # compiled or loaded from Numba's cache outside the timing
    passes = 1000
    while True:
        started = time.perf_counter()
        kernel(acc, a, a, passes)
        elapsed = time.perf_counter() - started
        if elapsed >= seconds / 10:
            return max(1, int(passes * seconds / elapsed))
        passes *= 10


def measure_fma_peak(threads: int = 2, seconds: float = 0.2, repeats: int = 3) -> dict:
    """The float32 FMA throughput of ``threads`` threads at once, in GFLOP/s.

    Each block's kernel runs ``repeats`` times for about ``seconds`` (the pass
    count sized on one thread first); the peak is the best rate of any of them.
    """
    if threads < 1:
        raise ValueError(f"threads must be at least 1, not {threads}")
    rates = {}
    for block, kernel in KERNELS.items():
        passes = _calibrate(kernel, block, seconds)
        best = min(_run_threads(kernel, block, threads, passes) for _ in range(repeats))
        rates[block] = FLOPS_PER_FMA * block * passes * threads / best / 1e9
    block = max(rates, key=rates.get)
    return {"gflops": rates[block], "threads": threads, "dtype": "float32", "block": block,
            "gflops_by_block": {str(k): round(v, 1) for k, v in rates.items()}}


def flops_per_sample(sizes: tuple[int, ...] | list[int]) -> int:
    """Dense multiply-add FLOPs of one training sample through layer ``sizes`` (784, 16, 10).

    Forward: 2 * n_in * n_out per layer. Backward: the weight gradient, as
    much again per layer, and the gradient of each layer's input except the
    first layer's (the data need none, and no system computes it). Activations,
    the loss and the update are not counted: they are O(units), not O(weights).
    """
    products = [n_in * n_out for n_in, n_out in zip(sizes[:-1], sizes[1:], strict=True)]
    return 2 * sum(products) + 2 * sum(products) + 2 * sum(products[1:])


def peak_share(samples_per_second: float, flops: int, peak_gflops: float) -> float:
    """The fraction of the FMA peak a row's dense FLOPs reach at its samples/s."""
    return samples_per_second * flops / (peak_gflops * 1e9)


def format_peak_share(samples_per_second: float | None, flops: int | None,
                      peak: dict | None) -> str:
    """The report's cell: e.g. '48 %' of the peak, '–' without a figure or a peak."""
    if not samples_per_second or not flops or not peak or not peak.get("gflops"):
        return "–"
    return f"{peak_share(samples_per_second, flops, peak['gflops']):.0%}".replace("%", " %")


def format_peak(peak: dict | None) -> str:
    """The report header's line: e.g. '140 GFLOP/s float32 FMA peak on 2 threads'."""
    if not peak or not peak.get("gflops"):
        return "FMA peak not measured"
    return (f"{peak['gflops']:.0f} GFLOP/s float32 FMA peak on {peak['threads']} threads "
            f"(measured in this run: `python benchmarks/peak.py`)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args(argv)
    print(json.dumps(measure_fma_peak(args.threads)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
