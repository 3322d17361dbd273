"""Mutations of valid model files and parsed-cache files, and how each one loads.

Shared by the bounded fuzz tests (``tests/test_file_fuzz.py``) and the long run
(``benchmarks/fuzz_files.py``). Every case ends in one of four outcomes:
``correct`` (loaded, and equal to what was saved), ``refused`` (one
``ModelFileError``, or for the cache a refusal the loader recovers from by
parsing the raw file again), ``altered`` (loaded, but not what was saved) or
``other`` (any other exception). Only the first two are acceptable.
"""

from __future__ import annotations

import io
import json
import os
import time
import warnings
import zipfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

import fastmlp
from fastmlp.data import cache
from fastmlp.exceptions import ModelFileError

# bytes that steer NumPy's header parser into its many error paths
_SPICY = b"()[]{}'\",:0123456789-+eEjJ .\n\\xL<>|=fiuUSObc\x00\x7f\xff"


@dataclass
class Tally:
    """Outcome counts, the slowest case and one example of each bad outcome."""

    counts: Counter = field(default_factory=Counter)
    slowest: float = 0.0
    examples: dict = field(default_factory=dict)

    def add(self, outcome: str, seconds: float, detail: str = "") -> None:
        self.counts[outcome] += 1
        self.slowest = max(self.slowest, seconds)
        if outcome in ("altered", "other"):
            self.examples.setdefault(outcome, detail)

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def mutate_bytes(data: bytes, rng: np.random.Generator, spans: list[tuple[int, int]]) -> bytes:
    """One random byte-level change, mostly inside ``spans`` (e.g. the ``.npy`` headers)."""
    data = bytearray(data)
    if spans and rng.random() < 0.8:
        start, stop = spans[rng.integers(len(spans))]
        position = int(rng.integers(start, max(stop, start + 1)))
    else:
        position = int(rng.integers(len(data)))
    position = min(position, len(data) - 1)
    kind = rng.integers(6)
    if kind == 0:
        data[position] ^= 1 << int(rng.integers(8))
    elif kind == 1:
        data[position] = int(rng.integers(256))
    elif kind == 2:
        data[position] = _SPICY[rng.integers(len(_SPICY))]
    elif kind == 3:
        data.insert(position, _SPICY[rng.integers(len(_SPICY))])
    elif kind == 4:
        del data[position]
    else:
        del data[position:]
    return bytes(data)


# -- model files -----------------------------------------------------------------------------


def model_header_spans(data: bytes) -> list[tuple[int, int]]:
    """Where each member's ``.npy`` header lies in a stored (uncompressed) model file."""
    spans = []
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        for info in archive.infolist():
            # local header: 30 bytes, the name, the extra field
            name_length = int.from_bytes(data[info.header_offset + 26:info.header_offset + 28],
                                         "little")
            extra = int.from_bytes(data[info.header_offset + 28:info.header_offset + 30], "little")
            start = info.header_offset + 30 + name_length + extra
            spans.append((start, start + 128))
    return spans


def mutate_members(data: bytes, rng: np.random.Generator) -> bytes:
    """One archive-level change: a member renamed bare, duplicated, unknown, swapped with
    another of the same size, replaced by a deflated copy, or given a lying header."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        members = [(info.filename, archive.read(info)) for info in archive.infolist()]
    index = int(rng.integers(len(members)))
    name, payload = members[index]
    kind = rng.integers(5)
    compress = {}
    if kind == 0:
        members[index] = (name.removesuffix(".npy"), payload)
    elif kind == 1:
        members.append((name, payload))
    elif kind == 2:
        members.append((f"extra{index}.npy", payload))
    elif kind == 3:
        same = [i for i, (_, p) in enumerate(members) if len(p) == len(payload) and i != index]
        if same:
            other = same[rng.integers(len(same))]
            members[index], members[other] = (name, members[other][1]), (members[other][0],
                                                                          payload)
        else:
            compress[name] = zipfile.ZIP_DEFLATED
    else:
        compress[name] = zipfile.ZIP_DEFLATED
    buffer = io.BytesIO()
    with warnings.catch_warnings(), zipfile.ZipFile(buffer, "w") as archive:
        warnings.simplefilter("ignore", UserWarning)  # "Duplicate name": the point here
        for member, content in members:
            archive.writestr(member, content, compress_type=compress.get(member,
                                                                        zipfile.ZIP_STORED))
    return buffer.getvalue()


def same_model(loaded, original) -> bool:
    """Whether ``loaded`` holds exactly the state of ``original`` (weights, labels, settings)."""
    a, b = loaded._get_state(), original._get_state()
    if a["params"].dtype != b["params"].dtype or not np.array_equal(a["params"], b["params"]):
        return False
    if a["classes"].dtype != b["classes"].dtype or not np.array_equal(a["classes"], b["classes"]):
        return False
    for key in ("hyperparams", "architecture", "layer_sizes", "attributes"):
        if json.dumps(a[key], sort_keys=True, default=str) != json.dumps(
                b[key], sort_keys=True, default=str):
            return False
    optimizers = a["optimizer"], b["optimizer"]
    if (optimizers[0] is None) != (optimizers[1] is None):
        return False
    if optimizers[0] is not None:
        if set(optimizers[0]) != set(optimizers[1]):
            return False
        for key, value in optimizers[0].items():
            if not np.array_equal(np.asarray(value), np.asarray(optimizers[1][key])):
                return False
    return True


def fuzz_models(original, directory: Path, count: int, seed: int, tally: Tally) -> Tally:
    """Save ``original``, load ``count`` mutations of its file and tally the outcomes."""
    path = directory / "fuzzed.npz"
    original.save(path)
    data = path.read_bytes()
    spans = model_header_spans(data)
    rng = np.random.default_rng(seed)
    for _ in range(count):
        changed = mutate_members(data, rng) if rng.random() < 0.2 else \
            mutate_bytes(data, rng, spans)
        path.write_bytes(changed)
        started = time.perf_counter()
        try:
            loaded = fastmlp.load(path)
        except ModelFileError:
            outcome, detail = "refused", ""
        except Exception as error:  # noqa: BLE001 - counting every other kind is the point
            outcome, detail = "other", f"{type(error).__name__}: {error}"[:300]
        else:
            outcome = "correct" if same_model(loaded, original) else "altered"
            detail = "loaded a model that differs from the one saved"
        tally.add(outcome, time.perf_counter() - started, detail)
    return tally


# -- parsed cache files ----------------------------------------------------------------------


def cached_copy(directory: Path, array: np.ndarray) -> tuple[str, str, Path]:
    """A raw file and its parsed copy in ``directory``: (raw name, known hash, parsed path)."""
    directory.mkdir(parents=True, exist_ok=True)
    raw_name, known_hash = "images.gz", "sha256:" + "0" * 64
    (directory / raw_name).write_bytes(b"raw")
    name = cache.save_parsed(directory, raw_name, known_hash, (directory / raw_name).stat(),
                             array)
    assert name is not None
    return raw_name, known_hash, directory / name


def fuzz_cache(directory: Path, count: int, seed: int, tally: Tally) -> Tally:
    """Damage the ``.npy`` header of a parsed copy ``count`` times; a damaged copy must be
    passed over (None: the loader parses the raw file again) or load equal."""
    rng = np.random.default_rng(seed)
    array = rng.integers(0, 256, size=(12, 7, 7), dtype=np.uint8)
    raw_name, known_hash, parsed = cached_copy(directory, array)
    data = parsed.read_bytes()
    header_end = data.index(b"\n") + 1
    for _ in range(count):
        parsed.write_bytes(mutate_bytes(data, rng, [(0, header_end)]))
        names = os.listdir(directory)
        started = time.perf_counter()
        try:
            loaded = cache.load_parsed(directory, names, raw_name, known_hash)
        except Exception as error:  # noqa: BLE001
            outcome, detail = "other", f"{type(error).__name__}: {error}"[:300]
        else:
            if loaded is None:
                outcome, detail = "refused", ""
            elif loaded.dtype == array.dtype and np.array_equal(loaded, array):
                outcome, detail = "correct", ""
            else:
                outcome, detail = "altered", f"served {loaded.dtype} {loaded.shape}"
        tally.add(outcome, time.perf_counter() - started, detail)
    return tally
