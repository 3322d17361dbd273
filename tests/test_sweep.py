"""fastmlp.sweep and ``fastmlp sweep`` on real Dask clusters of worker processes on 127.0.0.1.

One embedded cluster (2 workers x 1 thread) is shared by the module; the tests
that start their own processes (``dask scheduler`` / ``dask worker``, the CLI
interrupted with Ctrl-C) are marked slow. Data: a 5,000-sample slice of the real
MNIST training set.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import signal
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("distributed", reason="the sweep needs dask[distributed] (the dask extra)")

import fastmlp  # noqa: E402
from fastmlp import cli, sweeps  # noqa: E402
from fastmlp.cli import sweep as cli_sweep  # noqa: E402
from fastmlp.exceptions import ConvergenceWarning, SchedulerError  # noqa: E402

N_SAMPLES = 5_000
# small and quick, and deterministic: a fixed seed, float32
BASE = dict(hidden_layer_sizes=(16,), solver="adam", batch_size=128, max_iter=2,
            random_state=0, dtype="float32")
TIMEOUT = 60  # seconds: any wait on a cluster or a process is bounded


@pytest.fixture(scope="module")
def cluster_client():
    """The module's embedded cluster: 2 single-threaded worker processes, no dashboard."""
    with sweeps.local_client(2) as client:
        yield client


@pytest.fixture
def client(cluster_client):
    # a test may kill a worker: its nanny restarts it, so wait for both before each test
    cluster_client.wait_for_workers(2, timeout=TIMEOUT)
    return cluster_client


@pytest.fixture(scope="module")
def data(mnist):
    (x_train, y_train), _ = mnist
    return x_train[:N_SAMPLES], y_train[:N_SAMPLES]


def _worker_addresses(client) -> set[str]:
    return set(client.scheduler_info()["workers"])


def _sequential_fit(params: dict, X, y) -> fastmlp.MLPClassifier:
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1), warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return fastmlp.MLPClassifier(**params).fit(X, y)


# -- the grid and its checks, without a cluster ----------------------------------------


def test_parse_grid_reads_each_value_by_the_parameter_type():
    grid = cli_sweep.parse_grid([
        "hidden_layer_sizes=16,256x128", "learning_rate_init=1e-3,0.5", "max_iter=3",
        "shuffle=true,False", "batch_size=auto,64", "random_state=none,7", "activation=tanh",
        "dtype=float64,none",
    ])
    assert grid == {
        "hidden_layer_sizes": [(16,), (256, 128)], "learning_rate_init": [1e-3, 0.5],
        "max_iter": [3], "shuffle": [True, False], "batch_size": ["auto", 64],
        "random_state": [None, 7], "activation": ["tanh"], "dtype": ["float64", None],
    }
    assert isinstance(grid["max_iter"][0], int)


@pytest.mark.parametrize("spec, message", [
    ("hidden_size=16", r"unknown parameter 'hidden_size'.*hidden_layer_sizes.*learning_rate_init"),
    ("callbacks=x", r"cannot be set from the command line"),
    ("hidden_layer_sizes=16xa", r"layer sizes such as 128 or 256x128"),
    ("max_iter=2.5", r"max_iter: cannot read '2.5' as an integer"),
    ("shuffle=maybe", r"true or false"),
    ("learning_rate_init", r"expected NAME=VALUE"),
])
def test_parse_grid_refuses_bad_names_and_values(spec, message):
    with pytest.raises(ValueError, match=message):
        cli_sweep.parse_grid([spec])


def test_check_points_uses_the_estimator_validation():
    points = sweeps.check_points({"hidden_layer_sizes": [(8,), (8, 4)], "alpha": [0.0, 1e-4]},
                                 "default")
    assert points[1] == {"hidden_layer_sizes": (8,), "alpha": 1e-4} and len(points) == 4
    # the point, then the estimator's own message: the parameter and what it must be
    for grid, message in [
        ({"activation": ["relu", "sigmoid"]},
         r"^grid point activation='sigmoid': .*activation.*'relu', 'identity'"),
        ({"learning_rate_init": [-1.0]}, r"^grid point learning_rate_init=-1.0: .*must be"),
        ({"max_iter": [0]}, r"^grid point max_iter=0: max_iter must be .*1"),
        ({"hidden_layer_sizes": [(0,)]}, r"^grid point hidden_layer_sizes=\(0,\): .*must be"),
        ({"solver": ["lbfgs"]}, r"^grid point solver='lbfgs': solver must be one of \('adam'"),
        ({"batch_sizes": [32]}, r"Invalid parameter 'batch_sizes'.*valid parameters are"),
        ({"alpha": []}, r"grid\['alpha'\] is empty"),
        ({"alpha": 0.1}, r"must be a list of values"),
    ]:
        with pytest.raises(ValueError, match=message):
            sweeps.check_points(grid, BASE)


def test_expand_grid_orders_points_and_accepts_a_list_of_grids():
    assert sweeps.expand_grid({"a": [1, 2], "b": ["x", "y"]}) == [
        {"a": 1, "b": "x"}, {"a": 1, "b": "y"}, {"a": 2, "b": "x"}, {"a": 2, "b": "y"}]
    assert sweeps.expand_grid([{"a": [1]}, {"b": [2, 3]}]) == [{"a": 1}, {"b": 2}, {"b": 3}]


def test_validation_defaults_to_the_end_of_the_training_data():
    X, y = np.arange(120_000).reshape(60_000, 2), np.arange(60_000) % 10
    X_train, y_train, X_val, y_val = sweeps.validation_split(X, y)
    assert len(X_train) == 50_000 and len(X_val) == 10_000
    np.testing.assert_array_equal(X_val, X[-10_000:])
    np.testing.assert_array_equal(y_train, y[:50_000])
    _, _, X_val, _ = sweeps.validation_split(X[:6_000], y[:6_000])  # a sixth of fewer
    assert len(X_val) == 1_000
    with pytest.raises(ValueError, match="both X_val and y_val"):
        sweeps.validation_split(X, y, X_val=X)
    with pytest.raises(ValueError, match="same number of features"):
        sweeps.validation_split(X, y, X_val=X[:5, :1], y_val=y[:5])


def test_a_record_is_strict_json():
    result = sweeps.SweepResult(index=3, params={"hidden_layer_sizes": (8, 4), "alpha": 1e-4,
                                                 "random_state": np.int64(2)},
                                loss_curve=[0.5, float("inf")], error="DivergenceError: x")
    record = json.loads(json.dumps(result.to_dict(), allow_nan=False))
    assert record["params"] == {"hidden_layer_sizes": [8, 4], "alpha": 1e-4, "random_state": 2}
    assert record["loss_curve"] == [0.5, "inf"]
    assert record["error"] == "DivergenceError: x" and record["validation_accuracy"] is None


def test_fastmlp_sweep_is_the_function_whichever_import_comes_first():
    script = (
        "import fastmlp.sweeps, fastmlp; "
        "assert fastmlp.sweep is fastmlp.sweeps.sweep, fastmlp.sweep"
    )
    subprocess.run([sys.executable, "-c", script], check=True, timeout=TIMEOUT)
    assert fastmlp.sweep is sweeps.sweep


def test_import_and_training_never_import_dask():
    script = (
        "import sys, numpy as np, fastmlp\n"
        "X = np.random.default_rng(0).random((60, 4)); y = np.arange(60) % 3\n"
        "fastmlp.MLPClassifier(hidden_layer_sizes=(4,), max_iter=2).fit(X, y).predict(X)\n"
        "import fastmlp.sweeps\n"  # nor does the sweep module, until a sweep runs
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('dask', 'distributed')))\n"
    )
    out = subprocess.run([sys.executable, "-W", "ignore", "-c", script], check=True,
                         capture_output=True, text=True, timeout=TIMEOUT).stdout
    assert out.strip() == "[]"


# -- sweeps on the shared cluster -------------------------------------------------------


def test_every_point_comes_back_from_both_workers_with_the_weights_of_a_sequential_fit(
    client, data
):
    from distributed import get_task_stream

    X, y = data
    grid = {"hidden_layer_sizes": [(16,), (32,)], "learning_rate_init": [1e-3, 3e-3]}
    arrived = []
    with get_task_stream(client=client) as stream:
        results = fastmlp.sweep(grid, X, y, params=BASE, client=client,
                                callback=arrived.append)
    # the data was broadcast to both workers before the points ran: no task fetched any
    # (the embedded cluster runs without the memory manager that would drop replicas)
    assert not client.amm.running()
    assert _released(client)  # the sweep let go of its data and tasks
    fits = [task for task in stream.data if str(task["key"]).startswith("fastmlp-sweep")]
    assert len(fits) == 4
    steps = [(task["worker"], step["action"], step.get("source")) for task in fits
             for step in task["startstops"]]
    assert all(action == "compute" for _, action, _ in steps), steps

    assert [r.index for r in results] == [0, 1, 2, 3]
    assert sorted(r.index for r in arrived) == [0, 1, 2, 3]
    assert [r.params for r in results] == sweeps.expand_grid(grid)
    assert {r.worker for r in results} == _worker_addresses(client)  # both workers
    X_train, y_train, X_val, y_val = sweeps.validation_split(X, y)
    assert len(X_val) == N_SAMPLES // 6
    for result in results:
        assert result.ok, result.error
        reference = _sequential_fit({**BASE, **result.params}, X_train, y_train)
        for ours, theirs in zip(result.model.coefs_ + result.model.intercepts_,
                                reference.coefs_ + reference.intercepts_, strict=True):
            np.testing.assert_array_equal(ours, theirs)
        assert result.loss_curve == reference.loss_curve_ and len(result.loss_curve) == 2
        assert result.validation_accuracy == reference.score(X_val, y_val) > 0.5
        assert result.seconds > 0 and result.samples_per_s > 0
        assert result.model.callbacks is None  # the task's own timer is not left behind
    best = sweeps.best(results)
    assert best.validation_accuracy == max(r.validation_accuracy for r in results)
    assert sweeps.ranked(results)[0] is best


def test_a_diverging_point_is_recorded_as_failed_and_the_others_succeed(client, data):
    X, y = data
    grid = {"learning_rate_init": [0.01, 1e10, 0.02]}
    params = dict(BASE, solver="sgd", momentum=0.9)
    results = sweeps.sweep(grid, X, y, params=params, client=client)

    assert [r.ok for r in results] == [True, False, True]
    failed = results[1]
    assert failed.error.startswith("DivergenceError: Training diverged")
    assert failed.validation_accuracy is None and failed.model is None
    assert failed.worker in _worker_addresses(client)
    assert all(r.validation_accuracy > 0.5 for r in (results[0], results[2]))
    assert sweeps.ranked(results)[-1] is failed
    record = failed.to_dict()
    assert record["params"] == {"learning_rate_init": 1e10} and record["error"]
    json.dumps([r.to_dict() for r in results])


def test_killing_a_worker_mid_sweep_reruns_its_points_elsewhere(client, data):
    """SIGKILL one worker process while it fits; Dask reruns its task on the other.

    The module's cluster heals: the nanny starts a new worker process.
    """
    X, y = data
    grid = {"random_state": list(range(6))}
    params = dict(BASE, max_iter=6)
    killed: dict = {}

    def kill_a_busy_worker(result):
        if killed:
            return
        deadline = time.monotonic() + TIMEOUT
        while time.monotonic() < deadline:
            busy = {address: keys for address, keys in client.processing().items() if keys}
            if busy:
                break
            time.sleep(0.01)
        address, keys = next(iter(busy.items()))
        pid = client.run(os.getpid, workers=[address])[address]
        os.kill(pid, signal.SIGKILL)
        killed.update(address=address, indices={int(str(key).rsplit("-", 1)[1]) for key in keys})

    results = sweeps.sweep(grid, X, y, params=params, client=client,
                           callback=kill_a_busy_worker)

    assert killed["indices"]
    assert all(r.ok for r in results), [r.error for r in results]
    for index in killed["indices"]:
        assert results[index].worker != killed["address"]
    # the rerun points are the same fits as everywhere else
    X_train, y_train, _, _ = sweeps.validation_split(X, y)
    index = min(killed["indices"])
    reference = _sequential_fit({**params, **results[index].params}, X_train, y_train)
    np.testing.assert_array_equal(results[index].model.coefs_[0], reference.coefs_[0])


def test_killing_the_only_worker_loses_the_data_and_says_so_in_one_error(data):
    """With one worker, its death takes the only copy of the sweep's data with it; the
    points left cannot run, and the sweep says so instead of FutureCancelledError."""
    X, y = data
    grid = {"random_state": list(range(30))}
    with sweeps.local_client(1) as only:
        pids = list(only.run(os.getpid).values())

        def kill_the_worker(result) -> None:
            if pids:  # once, at the first result; the nanny starts a worker without the data
                os.kill(pids.pop(), signal.SIGKILL)

        with pytest.raises(SchedulerError, match=r"^the sweep's data was lost from the Dask "
                           r"cluster at tcp://127\.0\.0\.1:\d+: the workers that held it left "
                           r"\(killed or crashed\) after \d+ of 30 points.*run the sweep again"):
            sweeps.sweep(grid, X, y, params=dict(BASE, max_iter=4), client=only,
                         callback=kill_the_worker)


def _sweep_keys(client) -> list[str]:
    """Keys of sweep tasks and sweep data the scheduler still holds."""
    return client.run_on_scheduler(
        lambda dask_scheduler: [str(key) for key in dask_scheduler.tasks
                                if str(key).startswith("fastmlp-sweep")]
    )


def _released(client) -> bool:
    """Whether the scheduler lets go of every sweep key (it may take a moment) in TIMEOUT s."""
    deadline = time.monotonic() + TIMEOUT
    while _sweep_keys(client) and time.monotonic() < deadline:
        time.sleep(0.05)
    return _sweep_keys(client) == []


def test_a_scheduler_address_connects_to_that_cluster(client, data):
    X, y = data
    results = sweeps.sweep({"random_state": [0, 1]}, X, y, params=dict(BASE, max_iter=1),
                           client=client.scheduler.address)
    assert all(r.ok for r in results), [r.error for r in results]
    assert {r.worker for r in results} <= _worker_addresses(client)
    assert client.status == "running"  # the caller's cluster, and its client, live on


def test_an_interrupted_sweep_cancels_its_tasks_and_data_on_the_cluster(client, data):
    """Ctrl-C (a KeyboardInterrupt while results arrive): nothing of the sweep stays queued."""
    X, y = data
    assert _released(client)  # of the tests before

    def interrupt(result):
        raise KeyboardInterrupt

    # the traceback keeps the sweep's frame, and with it its futures, alive: only the
    # sweep's own cancel lets the scheduler forget them
    with pytest.raises(KeyboardInterrupt) as interrupted:
        sweeps.sweep({"random_state": list(range(8))}, X, y, params=dict(BASE, max_iter=4),
                     client=client, callback=interrupt)
    assert _released(client), _sweep_keys(client)
    assert interrupted.traceback
    assert client.status == "running"


def test_grid_search_cv_runs_on_the_cluster_through_joblib(client, data):
    joblib = pytest.importorskip("joblib")
    from distributed import get_task_stream
    from sklearn.model_selection import GridSearchCV
    from threadpoolctl import threadpool_limits

    X, y = data
    grid = {"hidden_layer_sizes": [(8,), (16,)]}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        with threadpool_limits(limits=1):  # as on the single-threaded workers
            local = GridSearchCV(fastmlp.MLPClassifier(**BASE), grid, cv=2).fit(X, y)
        with get_task_stream(client=client) as stream, \
                joblib.parallel_backend("dask", client=client, scatter=[X, y]):
            search = GridSearchCV(fastmlp.MLPClassifier(**BASE), grid, cv=2, n_jobs=-1)
            search.fit(X, y)
    workers = {task["worker"] for task in stream.data}
    assert workers and workers <= _worker_addresses(client)
    assert search.best_params_ == local.best_params_
    np.testing.assert_array_equal(search.cv_results_["mean_test_score"],
                                  local.cv_results_["mean_test_score"])


# -- the command line -------------------------------------------------------------------


def _scheduler_address(client) -> str:
    return client.scheduler.address


def test_cli_table_csv_and_plot_on_an_existing_cluster(client, mirror_env, tmp_path, capsys):
    out, plot = tmp_path / "results.csv", tmp_path / "sweep.png"
    argv = ["sweep", "--grid", "hidden_layer_sizes=8,16", "--grid", "learning_rate_init=1e-3",
            "--epochs", "1", "--scheduler", _scheduler_address(client),
            "--out", str(out)]
    have_matplotlib = importlib.util.find_spec("matplotlib") is not None
    if have_matplotlib:
        argv += ["--plot", str(plot)]
    assert cli.main(argv) == 0
    report = capsys.readouterr().out.splitlines()
    assert report[0].split() == ["rank", "hidden_layer_sizes", "learning_rate_init",
                                 "validation", "fit", "s", "samples/s", "worker"]
    ranked_rows = [line.split() for line in report[1:3]]
    assert [row[0] for row in ranked_rows] == ["1", "2"]
    assert {row[1] for row in ranked_rows} == {"8", "16"}
    accuracies = [float(row[3]) for row in ranked_rows]
    assert accuracies == sorted(accuracies, reverse=True)
    best_line = next(line for line in report if line.startswith("best"))
    assert best_line.split()[1] == f"hidden_layer_sizes={ranked_rows[0][1]}"
    test_line = next(line for line in report if line.startswith("test"))
    assert re.match(r"test +0\.\d{4} on the 10000 test images", test_line)
    csv_lines = out.read_text().splitlines()
    assert csv_lines[0].startswith("hidden_layer_sizes,learning_rate_init,validation_accuracy")
    assert [line.split(",")[0] for line in csv_lines[1:]] == [row[1] for row in ranked_rows]
    if have_matplotlib:
        assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_cli_workers_starts_an_embedded_cluster_and_shuts_it_down(mirror_env, capsys):
    """``--workers 2``: both worker processes fit points, and none is left after the command."""
    psutil = pytest.importorskip("psutil")
    before = {child.pid for child in psutil.Process().children(recursive=True)}
    assert cli.main(["sweep", "--workers", "2", "--grid", "hidden_layer_sizes=8,16,24,32",
                     "--epochs", "1", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert len(result["workers"]) == 2 and len(result["results"]) == 4
    assert {r["worker"] for r in result["results"]} == set(result["workers"])
    assert all(r["worker"].startswith("tcp://127.0.0.1:") for r in result["results"])
    assert all(r["error"] is None and len(r["loss_curve"]) == 1 for r in result["results"])
    assert result["best"] == result["results"][0]
    # (multiprocessing's resource tracker, started with the first worker, lives as long as
    # this process: it is no worker)
    left = [child for child in psutil.Process().children(recursive=True)
            if child.pid not in before and "resource_tracker" not in " ".join(child.cmdline())]
    _, alive = psutil.wait_procs(left, timeout=10)
    assert not alive, [process.cmdline() for process in alive]


def test_cli_refuses_bad_grids_before_loading_data_or_starting_a_cluster(monkeypatch, capsys):
    def no_work(*args, **kwargs):
        raise AssertionError("work started before the command line was checked")

    monkeypatch.setattr("fastmlp.datasets.load_dataset", no_work)
    monkeypatch.setattr(sweeps, "local_client", no_work)
    monkeypatch.setattr(sweeps, "sweep", no_work)
    for argv, message in [
        (["--grid", "hidden_size=16"], "the parameters that can be swept are: activation, alpha"),
        (["--grid", "learning_rate_init=1e-3,-1"], "learning_rate_init=-1.0: learning_rate_init"),
        (["--grid", "solver=adam,lbfgs"], "solver must be one of ('adam', 'sgd'); got 'lbfgs'"),
        (["--grid", "alpha=0", "--epochs", "0"], "error: max_iter must be"),
        (["--grid", "alpha=0", "--out", "/no/such/folder/r.csv"], "does not exist"),
        (["--grid", "alpha=0", "--workers", "0"], "--workers must be at least 1"),
    ]:
        assert cli.main(["sweep", *argv]) == 1
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and err[0].startswith("fastmlp: error: "), err
        assert message in err[0]
    with pytest.raises(SystemExit) as exit_info:  # argparse: either a scheduler or workers
        cli.main(["sweep", "--grid", "alpha=0", "--scheduler", "tcp://x:1", "--workers", "2"])
    assert exit_info.value.code == 2


def test_cli_unreachable_scheduler_fails_before_loading_data(monkeypatch, capsys):
    import socket

    def no_work(*args, **kwargs):
        raise AssertionError("the data was loaded before the scheduler was reached")

    monkeypatch.setattr("fastmlp.datasets.load_dataset", no_work)
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    code = cli.main(["sweep", "--grid", "alpha=0", "--scheduler", f"tcp://127.0.0.1:{port}",
                     "--connect-timeout", "1"])
    assert code == 1
    err = capsys.readouterr().err
    assert f"cannot reach the Dask scheduler at tcp://127.0.0.1:{port}" in err
    assert "dask scheduler" in err and "Traceback" not in err


def _start(argv: list[str], log: Path) -> subprocess.Popen:
    with open(log, "wb") as output:
        return subprocess.Popen(argv, stdout=output, stderr=subprocess.STDOUT,
                                start_new_session=True)


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)


def _dask(*args: str) -> list[str]:
    """The ``dask`` command of this environment."""
    return [sys.executable, "-m", "dask", *args]


@pytest.mark.slow
def test_cli_scheduler_runs_on_dask_scheduler_and_worker_processes(mirror_env, tmp_path,
                                                                   capsys):
    from distributed import Client

    scheduler_file = tmp_path / "scheduler.json"
    processes = []
    try:
        processes.append(_start(_dask(
            "scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard",
            "--dashboard-address", "127.0.0.1:0", "--scheduler-file", str(scheduler_file),
            "--idle-timeout", "300s",  # stops by itself should this test be killed
        ), tmp_path / "scheduler.log"))
        deadline = time.monotonic() + TIMEOUT
        while not scheduler_file.exists() and time.monotonic() < deadline:
            assert processes[0].poll() is None, (tmp_path / "scheduler.log").read_text()
            time.sleep(0.1)
        address = json.loads(scheduler_file.read_text())["address"]
        for i in range(2):
            processes.append(_start(_dask(
                "worker", address, "--nthreads", "1", "--host", "127.0.0.1", "--no-dashboard",
                "--death-timeout", "60", "--name", f"w{i}",
            ), tmp_path / f"worker{i}.log"))
        with Client(address, timeout=TIMEOUT, set_as_default=False) as observer:
            observer.wait_for_workers(2, timeout=TIMEOUT)
            workers = set(observer.scheduler_info()["workers"])

        assert cli.main(["sweep", "--grid", "hidden_layer_sizes=8,16,24,32", "--epochs", "1",
                         "--scheduler", address, "--json"]) == 0
        printed = capsys.readouterr().out
        result = json.loads(printed)  # exactly one JSON object
        assert len(result["results"]) == 4
        assert set(result["workers"]) == workers
        assert {r["worker"] for r in result["results"]} == workers
        assert result["best"] == result["results"][0]
        scores = [r["validation_accuracy"] for r in result["results"]]
        assert scores == sorted(scores, reverse=True)
        assert result["results"][0]["params"]["hidden_layer_sizes"] in ([8], [16], [24], [32])
        assert 0.8 < result["test_accuracy"] <= 1 and result["n_test"] == 10_000
        assert result["n_validation"] == 10_000
    finally:
        for process in reversed(processes):
            _stop(process)


@pytest.mark.slow
def test_ctrl_c_cancels_closes_the_embedded_cluster_and_exits_130(mirror_env):
    """Ctrl-C in a terminal: SIGINT to the whole process group, workers included."""
    psutil = pytest.importorskip("psutil")
    argv = [sys.executable, "-m", "fastmlp.cli", "sweep", "--workers", "2",
            "--grid", "hidden_layer_sizes=128,256",
            "--grid", "random_state=" + ",".join(str(seed) for seed in range(64)),
            "--epochs", "20"]  # 128 short fits: interrupted long before the end of the sweep
    # as in a terminal, Ctrl-C is live in the sweep even when this run inherited it ignored
    # (a background job of a non-interactive shell): Python then never raises on it
    process = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               start_new_session=True, env=os.environ.copy(),
                               preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    try:
        parent = psutil.Process(process.pid)
        deadline = time.monotonic() + 2 * TIMEOUT
        workers = []
        while time.monotonic() < deadline and process.poll() is None:
            # start-up and warm-up cost a worker about 2 s of CPU; past 5 s it is fitting
            workers = [p for p in parent.children() if p.cpu_times().user > 5]
            if len(workers) == 2:  # both workers are fitting
                break
            time.sleep(0.2)
        assert len(workers) == 2, process.communicate(timeout=TIMEOUT)
        children = parent.children(recursive=True)
        out = err = None
        for _ in range(3 * TIMEOUT // 5):  # a slow machine's start-up can take a minute
            # again every 5 s, as a user would: a Ctrl-C while the workers still start
            # up is lost by design (cluster.sigint_ignored), and a cold cache makes that long
            os.killpg(process.pid, signal.SIGINT)
            try:
                out, err = process.communicate(timeout=5)
                break
            except subprocess.TimeoutExpired:
                continue
        if err is None:
            out, err = process.communicate(timeout=TIMEOUT)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
    assert process.returncode == 130
    # (pooch may log the downloads into the test's fresh cache before)
    assert err.strip().splitlines()[-1] == "fastmlp: interrupted", err
    assert "Traceback" not in err
    assert out == ""
    _, alive = psutil.wait_procs(children, timeout=10)
    assert not alive
