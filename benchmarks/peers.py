"""The compiled peers of ``worker.py``: JAX (a whole epoch in one XLA program) and
``torch.compile`` of PyTorch's training step.

Both train what the PyTorch worker trains (``worker.torch_setup``): the same
layers, PyTorch's default initialization (uniform within 1/sqrt(fan_in), weights
and biases), the same loss and optimizer, a fresh permutation each epoch, uint8
input converted and scaled per batch inside the compiled code. Compiling is
never timed: each process first runs one untimed epoch on the very shapes it
then times, and a timed fit starts from fresh parameters and optimizer state.

- ``JAX``: parameters as a pytree; ONE ``jax.jit``-ed function per epoch whose
  body is ``jax.lax.scan`` over the batches, each step ``jax.value_and_grad``
  of the loss and the update written out (SGD, or Adam with PyTorch's bias
  correction), the training state donated. Full batches only: the last
  ``n % batch`` samples of the permutation are left out of the epoch (a second
  shape would need a second program), and the worker counts only the samples
  trained. XLA's CPU pool gets ``PEER_THREADS`` threads (``PJRT_NPROC``).
- ``torch.compile``: one compiled function per step (model, loss, backward,
  optimizer step; ``dynamic=False``: one static program per batch shape, the
  full batch and the last one, both compiled in the untimed epoch).
"""

from __future__ import annotations

import os
import time
import warnings

import numpy as np

# The threads every system gets (worker.TORCH_THREADS, fastmlp's default on 2 cores).
PEER_THREADS = 2
ADAM = {"lr": 1e-3, "b1": 0.9, "b2": 0.999, "eps": 1e-8}
SGD_LR = 0.01


def full_batches(n: int, batch: int) -> int:
    """Samples a full-batches-only epoch trains: n rounded down to a multiple of batch."""
    return n - n % batch


# -- JAX -----------------------------------------------------------------------------------


def _jax(dtype: str):
    """JAX, with XLA's CPU pool at PEER_THREADS threads and 64-bit floats iff float64."""
    # read when the CPU client is created: set before the first computation
    os.environ.setdefault("PJRT_NPROC", str(PEER_THREADS))
    import jax

    jax.config.update("jax_enable_x64", dtype == "float64")
    return jax


def jax_thread_info() -> dict:
    import jax

    return {"xla_threads": int(os.environ["PJRT_NPROC"]), "version": jax.__version__}


def jax_init(sizes: tuple[int, ...], seed: int, dtype: str) -> list[tuple]:
    """PyTorch's ``nn.Linear`` default: weights (fan_in, fan_out) and biases uniform
    within 1/sqrt(fan_in)."""
    rng = np.random.default_rng(seed)
    params = []
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:], strict=True):
        bound = 1 / np.sqrt(fan_in)
        params.append((rng.uniform(-bound, bound, (fan_in, fan_out)).astype(dtype),
                       rng.uniform(-bound, bound, fan_out).astype(dtype)))
    return params


class JaxTrainer:
    """The spec's network on (x, y): ``fresh(seed)`` state, ``epoch(state, seed)``, ``predict``."""

    def __init__(self, spec: dict, x: np.ndarray, y: np.ndarray) -> None:
        jax = self.jax = _jax(spec["dtype"])
        self.spec, self.dtype = spec, np.dtype(spec["dtype"])
        self.sizes = (x.shape[1], *spec["hidden"], 10)
        self.notebook = spec["recipe"] == "notebook"
        self.x, self.y = jax.device_put(x), jax.device_put(y.astype(np.int32))
        self.n_batches = len(y) // spec["batch"]
        self._epoch = jax.jit(self._epoch_body, donate_argnums=(0,))
        self._predict = jax.jit(lambda params, x: self.forward(params, x).argmax(axis=1))
        self.compiled = None

    def prepare(self, xb):
        """A batch in the maths dtype; uint8 pixels scaled by 1/255, inside the program."""
        if xb.dtype == np.uint8:
            return xb.astype(self.dtype) * self.dtype.type(1 / 255)
        return xb.astype(self.dtype)

    def forward(self, params, xb):
        nn = self.jax.nn
        h = self.prepare(xb)
        for i, (w, b) in enumerate(params):
            z = h @ w + b
            last = i == len(params) - 1
            h = nn.sigmoid(z) if self.notebook else (z if last else nn.relu(z))
        return h

    def loss(self, params, xb, yb):
        jnp = self.jax.numpy
        out = self.forward(params, xb)
        if self.notebook:  # per-sample sum of squared errors over the outputs, batch mean
            target = self.jax.nn.one_hot(yb, out.shape[1], dtype=out.dtype)
            return jnp.mean(jnp.sum((out - target) ** 2, axis=1))
        logp = self.jax.nn.log_softmax(out)
        return -jnp.mean(jnp.take_along_axis(logp, yb[:, None], axis=1))

    def update(self, params, grads, opt):
        """One SGD step, or Adam as ``torch.optim.Adam`` computes it (bias-corrected)."""
        tree_map, jnp, f = self.jax.tree_util.tree_map, self.jax.numpy, self.dtype.type
        if self.notebook:
            return tree_map(lambda p, g: p - f(SGD_LR) * g, params, grads), opt
        step, m, v = opt
        step = step + 1
        b1, b2, lr, eps = (f(ADAM[k]) for k in ("b1", "b2", "lr", "eps"))
        m = tree_map(lambda m, g: b1 * m + (1 - b1) * g, m, grads)
        v = tree_map(lambda v, g: b2 * v + (1 - b2) * g * g, v, grads)
        correction1, root2 = 1 - b1 ** step, jnp.sqrt(1 - b2 ** step)
        params = tree_map(lambda p, m, v: p - (lr / correction1) * m / (jnp.sqrt(v) / root2 + eps),
                          params, m, v)
        return params, (step, m, v)

    def _epoch_body(self, state, x, y, key):
        jax = self.jax
        batch = self.spec["batch"]
        order = jax.random.permutation(key, len(y))[:self.n_batches * batch]

        def step(carry, rows):
            params, opt = carry
            loss, grads = jax.value_and_grad(self.loss)(params, x[rows], y[rows])
            return self.update(params, grads, opt), loss

        state, losses = jax.lax.scan(step, state, order.reshape(self.n_batches, batch))
        return state, losses.mean()

    def fresh(self, seed: int):
        """Fresh parameters and optimizer state, on the device."""
        params = jax_init(self.sizes, seed, self.spec["dtype"])
        opt = () if self.notebook else (self.dtype.type(0), *(
            [(np.zeros_like(w), np.zeros_like(b)) for w, b in params] for _ in range(2)))
        return self.jax.device_put((params, opt))

    def compile(self) -> None:
        """Compile the epoch for these exact shapes (ahead of time; never in a timed epoch)."""
        key = self.jax.random.key(0)
        self.compiled = self._epoch.lower(self.fresh(0), self.x, self.y, key).compile()

    def epoch(self, state, seed: int):
        """One epoch over a fresh permutation: (new state, mean batch loss), finished."""
        state, loss = self.compiled(state, self.x, self.y, self.jax.random.key(seed))
        return self.jax.block_until_ready((state, loss))

    def accuracy(self, state, x_test: np.ndarray, y_test: np.ndarray) -> float:
        predicted = np.asarray(self._predict(state[0], self.jax.device_put(x_test)))
        return float((predicted == y_test).mean())


def jax_epochs(spec: dict, x, y) -> list[float]:
    """Compile and run one untimed epoch on the full shapes, then ``epochs`` timed fits."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        trainer = JaxTrainer(spec, x, y)
        trainer.compile()
        trainer.epoch(trainer.fresh(0), 0)
    seconds = []
    for epoch in range(spec["epochs"]):
        started = time.perf_counter()
        trainer.epoch(trainer.fresh(epoch), epoch)
        seconds.append(time.perf_counter() - started)
    return seconds


def jax_time_to_accuracy(spec: dict, x, y, x_test, y_test) -> dict:
    """Epochs until the target; ``startup_seconds`` is the compilation, once per process."""
    from worker import Progress

    trainer = JaxTrainer(spec, x, y)
    started = time.perf_counter()
    trainer.compile()
    startup = time.perf_counter() - started
    trainer.accuracy(trainer.fresh(0), x_test, y_test)  # compiles predict, untimed
    state, run = trainer.fresh(spec["seed"]), Progress(spec)
    while not run.done:
        started = time.perf_counter()
        state, _ = trainer.epoch(state, spec["seed"] * 1000 + run.epochs)
        run.trained(time.perf_counter() - started)
        started = time.perf_counter()
        accuracy = trainer.accuracy(state, x_test, y_test)
        run.scored(accuracy, time.perf_counter() - started)
    return {**run.result(), "startup_seconds": startup}


# -- torch.compile -------------------------------------------------------------------------


class CompiledTorch:
    """PyTorch's worker setup with the whole training step under ``torch.compile``."""

    def __init__(self, spec: dict, x, y) -> None:
        import torch
        from worker import torch_setup

        self.torch, self.n, self.batch = torch, len(y), spec["batch"]
        setup = torch_setup(spec, x, y)
        self.model, self.optimizer, loss_fn, batch_input, targets = setup

        def step(rows):
            self.optimizer.zero_grad(set_to_none=True)
            loss = loss_fn(self.model(batch_input(rows)), targets[rows])
            loss.backward()
            self.optimizer.step()
            return loss.detach()

        self.step = torch.compile(step, dynamic=False)

    def reset(self, seed: int) -> None:
        """Fresh parameters and optimizer state, in place: the compiled step stays valid."""
        torch = self.torch
        torch.manual_seed(seed)
        with torch.no_grad():
            for layer in self.model:
                if hasattr(layer, "reset_parameters"):
                    layer.reset_parameters()
            for state in self.optimizer.state.values():
                for value in state.values():
                    if torch.is_tensor(value):
                        value.zero_()

    def epoch(self) -> float:
        order = self.torch.randperm(self.n)
        total = 0.0
        for start in range(0, self.n, self.batch):
            total += float(self.step(order[start:start + self.batch]))
        return total / -(-self.n // self.batch)

    def accuracy(self, x_test: np.ndarray, y_test: np.ndarray, dtype: str) -> float:
        torch = self.torch
        from worker import torch_batch_input

        data = torch_batch_input(x_test, getattr(torch, dtype))(torch.arange(len(y_test)))
        with torch.no_grad():
            predicted = self.model(data).argmax(1).numpy()
        return float((predicted == y_test).mean())


def compiled_torch_epochs(spec: dict, x, y) -> list[float]:
    """Compile in one untimed epoch on the full data, then ``epochs`` timed fresh fits."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        trainer = CompiledTorch(spec, x, y)
        trainer.epoch()
    seconds = []
    for epoch in range(spec["epochs"]):
        started = time.perf_counter()
        trainer.reset(epoch)
        trainer.epoch()
        seconds.append(time.perf_counter() - started)
    return seconds


def compiled_torch_time_to_accuracy(spec: dict, x, y, x_test, y_test) -> dict:
    """Epochs until the target; ``startup_seconds``: the first (compiling) epoch's extra
    seconds over the same epoch compiled."""
    from worker import Progress

    trainer = CompiledTorch(spec, x, y)
    seconds = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for _ in range(2):
            started = time.perf_counter()
            trainer.epoch()
            seconds.append(time.perf_counter() - started)
    trainer.reset(spec["seed"])
    run = Progress(spec)
    while not run.done:
        started = time.perf_counter()
        trainer.epoch()
        run.trained(time.perf_counter() - started)
        started = time.perf_counter()
        accuracy = trainer.accuracy(x_test, y_test, spec["dtype"])
        run.scored(accuracy, time.perf_counter() - started)
    return {**run.result(), "startup_seconds": max(0.0, seconds[0] - seconds[1])}
