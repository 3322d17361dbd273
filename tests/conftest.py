"""Shared fixtures: synthetic problems, quiet short fits, and the real data sets
served without network.

The tests that need the original MNIST and Fashion-MNIST files find them, in
this order, through ``FASTMLP_TEST_DATA``, through ``FASTMLP_MIRROR`` (the
setting users set: a folder or URL holding ``mnist/`` and ``fashion-mnist/``
with the original file names), or in ``../shared/data`` next to the repository.
They are served on a loopback HTTP server so tests run the real download,
checksum and cache path end to end. Without them, tests that need data are
skipped with one reason naming the setting (``FASTMLP_TEST_NETWORK=1`` lets
``mirror_env``, ``mnist`` and ``fashion_mnist`` use the real upstream mirrors
instead); with ``FASTMLP_TEST_REQUIRE_DATA=1``, or ``CI=true``, they fail.
"""

from __future__ import annotations

import os

# scikit-learn's check_array_api_input runs only when SciPy's array API support is
# switched on before SciPy is first imported, which is now.
os.environ.setdefault("SCIPY_ARRAY_API", "1")
import atexit
import functools
import shutil
import tempfile
import threading
import urllib.request
import warnings
from collections import Counter
from collections.abc import Callable, Iterator
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pytest

from fastmlp import datasets

DEFAULT_DATA_DIR = Path(__file__).resolve().parents[2] / "shared" / "data"
# The user's mirror is read once here and taken out of the environment: the tests
# that need data point FASTMLP_MIRROR at their own loopback server (mirror_env).
DATA_SETTINGS = ("FASTMLP_TEST_DATA", "FASTMLP_MIRROR")


def data_source(environ) -> tuple[str, str | None]:
    """Where the real data is: (folder or URL, the setting that named it, None for the default)."""
    return next(((environ[name], name) for name in DATA_SETTINGS if environ.get(name)),
                (str(DEFAULT_DATA_DIR), None))


DATA_SOURCE, DATA_SETTING = data_source(os.environ)
os.environ.pop("FASTMLP_MIRROR", None)
NETWORK = os.environ.get("FASTMLP_TEST_NETWORK") == "1"
# CI has the data: there a missing data set fails the run instead of skipping tests.
REQUIRE_DATA = (os.environ.get("FASTMLP_TEST_REQUIRE_DATA") == "1"
                or os.environ.get("CI", "").lower() == "true")
MISSING_DATA = (
    "real MNIST files not found{where}; set FASTMLP_MIRROR to a folder or URL holding "
    "mnist/ and fashion-mnist/ with the original .gz files (or FASTMLP_TEST_DATA to such a "
    "folder), or run with the network opt-in FASTMLP_TEST_NETWORK=1"
)


# -- synthetic problems and short fits ---------------------------------------------------


def _blobs(n=90, n_features=5, n_classes=3, seed=0, spread=0.3):
    """Well separated Gaussian blobs: (X float64, y int class index)."""
    rng = np.random.default_rng(seed)
    centers = rng.normal(0.0, 3.0, (n_classes, n_features))
    y = np.arange(n) % n_classes
    X = centers[y] + rng.normal(0.0, spread, (n, n_features))
    return X, y


def _linear_classes(n=240, n_features=8, n_classes=3, seed=0):
    """A learnable multiclass problem: (X standard normal, y = argmax of a random linear map)."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, n_features))
    y = np.argmax(X @ rng.standard_normal((n_features, n_classes)), axis=1)
    return X, y


@pytest.fixture(scope="session")
def blobs() -> Callable[..., tuple]:
    """Factory ``blobs(n=90, n_features=5, n_classes=3, seed=0, spread=0.3)``: well
    separated Gaussian blobs, ``(X float64, y int)``, easy for any model."""
    return _blobs


@pytest.fixture(scope="session")
def linear_classes() -> Callable[..., tuple]:
    """Factory ``linear_classes(n=240, n_features=8, n_classes=3, seed=0)``: standard
    normal X labelled by the argmax of a random linear map, ``(X float64, y int)``."""
    return _linear_classes


@pytest.fixture
def quiet_convergence() -> Iterator[None]:
    """Silence the max_iter ConvergenceWarning (fastmlp's and scikit-learn's): short
    fits end at max_iter by design, and the warning is noise there."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Stochastic Optimizer: Maximum iterations")
        yield


# -- the real data sets on a loopback mirror -------------------------------------------------


class LoopbackServer:
    """Serve a folder on 127.0.0.1, counting requests and failing chosen paths.

    ``requests`` counts GET requests per URL path; ``fail`` maps a URL path to the
    HTTP status it should answer with instead of the file.
    """

    def __init__(self, root: Path) -> None:
        self.root = root
        self.requests: Counter[str] = Counter()
        self.fail: dict[str, int] = {}
        self._lock = threading.Lock()
        server = self

        class Handler(SimpleHTTPRequestHandler):
            def do_GET(self) -> None:
                path = self.path.split("?", 1)[0]
                with server._lock:
                    server.requests[path] += 1
                    status = server.fail.get(path)
                if status is None:
                    super().do_GET()
                else:
                    self.send_error(status)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), partial(Handler, directory=str(root)))
        self._httpd.daemon_threads = True
        # A short poll interval keeps shutdown() at teardown from costing 0.5 s.
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()

    @property
    def url(self) -> str:
        """Base URL, without a trailing slash."""
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def total_requests(self) -> int:
        with self._lock:
            return sum(self.requests.values())

    def reset(self) -> None:
        with self._lock:
            self.requests.clear()
            self.fail.clear()

    def close(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()


def _is_url(source: str) -> bool:
    return source.split(":", 1)[0].lower() in ("http", "https", "file")


def _fetch_mirror(url: str, root: Path) -> Path:
    """Copy the data sets' original files from a mirror URL into root (missing ones left out)."""
    for spec in (datasets.DATASETS["mnist"], datasets.DATASETS["fashion-mnist"]):
        for fname, _ in spec.files:
            target = root / spec.name / fname
            target.parent.mkdir(parents=True, exist_ok=True)
            try:
                with urllib.request.urlopen(f"{url.rstrip('/')}/{spec.name}/{fname}",
                                            timeout=60) as response:
                    target.write_bytes(response.read())
            except OSError:
                target.unlink(missing_ok=True)
    return root


@functools.cache
def _data_dir() -> Path | None:
    """The folder of real data files, fetched once from a mirror URL; None if absent."""
    source = DATA_SOURCE
    if source.lower().startswith("file:"):
        source = urllib.request.url2pathname(source.split(":", 1)[1].removeprefix("//"))
    elif _is_url(source):
        root = Path(tempfile.mkdtemp(prefix="fastmlp-test-data-"))
        atexit.register(shutil.rmtree, root, ignore_errors=True)
        source = str(_fetch_mirror(source, root))
    path = Path(source).expanduser()
    return path if (path / "mnist").is_dir() and any((path / "mnist").iterdir()) else None


def _have_data() -> bool:
    return _data_dir() is not None


def missing_data_reason(source: str = DATA_SOURCE, setting: str | None = DATA_SETTING) -> str:
    """The skip reason: what was looked at, and the setting to set."""
    where = f" in {source} ({setting})" if setting else f" at {source}"
    return MISSING_DATA.format(where=where)


def skip_counts(reports) -> Counter:
    """Skipped tests counted by reason, so a summary shows each reason once."""
    counts: Counter[str] = Counter()
    for report in reports:
        longrepr = report.longrepr
        reason = longrepr[2] if isinstance(longrepr, tuple) else str(longrepr)
        counts[reason.removeprefix("Skipped: ")] += 1
    return counts


def pytest_terminal_summary(terminalreporter) -> None:
    """One line per skip reason (``-rfE`` in addopts leaves out pytest's line per test)."""
    counts = skip_counts(terminalreporter.stats.get("skipped", []))
    if counts:
        terminalreporter.section("skipped tests, by reason", sep="-")
        for reason, n in counts.most_common():
            terminalreporter.write_line(f"{n} skipped: {reason}")


def _require_data() -> None:
    if not _have_data():
        if REQUIRE_DATA:
            pytest.fail("the real-data tests must run here (CI or FASTMLP_TEST_REQUIRE_DATA=1): "
                        + missing_data_reason(), pytrace=False)
        pytest.skip(missing_data_reason())


def _loopback_url(request: pytest.FixtureRequest) -> str | None:
    """URL of the loopback mirror, or None to use the upstream mirrors (network opt-in)."""
    if NETWORK and not _have_data():
        return None
    return request.getfixturevalue("_session_server").url


@pytest.fixture(scope="session")
def data_dir() -> Path:
    """The folder holding ``mnist/`` and ``fashion-mnist/`` raw files (skips if absent)."""
    _require_data()
    return _data_dir()


@pytest.fixture(scope="session")
def _session_server(data_dir: Path) -> Iterator[LoopbackServer]:
    server = LoopbackServer(data_dir)
    yield server
    server.close()


@pytest.fixture
def data_server(_session_server: LoopbackServer) -> Iterator[LoopbackServer]:
    """The loopback server for the real data, with counts and failures reset per test."""
    _session_server.reset()
    yield _session_server
    _session_server.reset()


@pytest.fixture
def serve_dir() -> Iterator[Callable[[Path], LoopbackServer]]:
    """Factory: serve any folder on its own loopback server until the test ends."""
    servers: list[LoopbackServer] = []

    def start(root: Path) -> LoopbackServer:
        servers.append(LoopbackServer(root))
        return servers[-1]

    yield start
    for server in servers:
        server.close()


@pytest.fixture
def mirror_env(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> Path:
    """Point ``FASTMLP_MIRROR`` at the loopback server and ``FASTMLP_DATA_DIR`` at a
    fresh folder, which is returned."""
    cache = tmp_path / "cache"
    monkeypatch.setenv(datasets.DATA_DIR_ENV, str(cache))
    url = _loopback_url(request)
    if url is None:
        monkeypatch.delenv(datasets.MIRROR_ENV, raising=False)
    else:
        request.getfixturevalue("data_server")  # fresh request counts for this test
        monkeypatch.setenv(datasets.MIRROR_ENV, url)
    return cache


def _load_session(
    load: Callable[..., tuple],
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple:
    data = load(data_home=tmp_path_factory.mktemp("fastmlp-data"), mirror=_loopback_url(request))
    # Shared by every test of the session: a test that writes into them must copy.
    for split in data:
        for array in split:
            array.flags.writeable = False
    return data


@pytest.fixture(scope="session")
def mnist(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> tuple:
    """``((x_train, y_train), (x_test, y_test))`` of MNIST, loaded once per session, read-only."""
    return _load_session(datasets.load_mnist, request, tmp_path_factory)


@pytest.fixture(scope="session")
def mnist_slice(mnist) -> tuple:
    """The first 1000 MNIST training images as (1000, 784) uint8 rows, and their labels."""
    (x_train, y_train), _ = mnist
    return np.ascontiguousarray(x_train[:1000].reshape(1000, -1)), y_train[:1000]


@pytest.fixture(scope="session")
def fashion_mnist(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> tuple:
    """``((x_train, y_train), (x_test, y_test))`` of Fashion-MNIST, once per session, read-only."""
    return _load_session(datasets.load_fashion_mnist, request, tmp_path_factory)
