"""Stochastic optimizers: SGD (with momentum) and Adam, as scikit-learn defines them.

An optimizer owns its state (velocities, moments) as flat buffers shaped like
the network's flat parameter buffer, and its compiled half,
[fastmlp.engine.updates][fastmlp.engine.updates], owns the arithmetic: the
[Solver][fastmlp.engine.updates.Solver] tuple and codes that
[compiled][fastmlp.engine.optimizers.StochasticOptimizer.compiled] hands the
compiled training steps, Adam's bias-corrected step size, the mini-batch update
of parameters and state in one kernel call per step, and the batch-1 SGD step
of the per-sample path. Nothing else computes a learning rate or a moment.
Learning-rate schedules and the "should we stop" decision follow
``sklearn.neural_network._stochastic_optimizers`` so that hyper-parameters mean
the same thing in both libraries; the plain-NumPy specification of both updates
is [fastmlp.engine.reference][fastmlp.engine.reference].
"""

import math
import numbers

import numpy as np

from fastmlp import options
from fastmlp.engine import updates


def _empty(dtype: np.dtype) -> np.ndarray:
    """The stand-in a compiled solver gets for state it does not keep."""
    return np.zeros(0, dtype=dtype)


class StochasticOptimizer:
    """What the training loop asks of an optimizer; the shared parts of both.

    Subclasses implement ``compiled``, the settings and state buffers that the
    compiled steps update ([fastmlp.engine.updates][fastmlp.engine.updates]), and may
    override the schedule (``iteration_ends``) and ``trigger_stopping``.
    """

    plain = False  # True when a step needs no state: the per-sample kernel can run it
    kind = ""  # the solver's name, as in fastmlp.options.SOLVERS
    # What state() returns besides "kind": the settings and scalars {name: type or the
    # allowed strings}, and the flat buffers
    _state_scalars: dict = {
        "learning_rate_init": float, "learning_rate": float,
        "lr_schedule": options.LEARNING_RATES, "epochs_started": int,
    }
    _required: tuple[str, ...] = ("learning_rate",)  # the rest: kept if a state lacks them
    _state_buffers: tuple[str, ...] = ()

    def __init__(
        self, dtype: np.dtype, learning_rate_init: float, lr_schedule: str = "constant"
    ) -> None:
        self.dtype = np.dtype(dtype)
        self.learning_rate_init = learning_rate_init
        self.learning_rate = float(learning_rate_init)
        self.lr_schedule = lr_schedule
        self.epochs_started = 0

    def state(self) -> dict:
        """What continues training exactly, as plain values, in the spirit of ``__getstate__``.

        Returns
        -------
        dict
            ``kind`` (the solver's name), the scalars (Python numbers) and the
            flat state buffers (the optimizer's own arrays, not copies) by name.
        """
        state = {"kind": self.kind}
        for name, kind in self._state_scalars.items():
            value = getattr(self, name)
            state[name] = value if isinstance(kind, tuple) else kind(value)
        state.update({name: getattr(self, name) for name in self._state_buffers})
        return state

    def load_state(self, state: dict) -> None:
        """Restore what [state][fastmlp.engine.optimizers.StochasticOptimizer.state] returned.

        Only the known entries are read, each checked, so that a damaged model
        file cannot set arbitrary attributes. The settings (``learning_rate_init``,
        momentum or betas, ...) may be missing, as in files of fastmlp 0.1: the
        optimizer's own are kept.

        Parameters
        ----------
        state : dict
            ``kind``, the settings and scalars, and the flat buffers, shaped
            and typed like this optimizer's.

        Raises
        ------
        ValueError
            An entry is missing, of another solver, type or shape.
        """
        if state.get("kind") != self.kind:
            raise ValueError(f"optimizer state of kind {state.get('kind')!r}, not {self.kind!r}.")
        for name, kind in self._state_scalars.items():
            if name not in state and name not in self._required:
                continue
            value = state.get(name)
            if isinstance(kind, tuple):
                ok, what = isinstance(value, str) and value in kind, f"one of {kind}"
            elif kind is bool:
                ok, what = isinstance(value, bool), "a bool"
            else:
                ok = isinstance(value, numbers.Integral if kind is int else numbers.Real)
                ok = ok and not isinstance(value, bool) and value >= 0 and _finite(value)
                what = "an integer >= 0" if kind is int else "a number >= 0"
            if not ok:
                raise ValueError(f"optimizer {name} must be {what}; got {value!r}.")
        for name in self._state_buffers:
            buffer, stored = getattr(self, name), state.get(name)
            if not isinstance(stored, np.ndarray) or stored.shape != buffer.shape or (
                stored.dtype != buffer.dtype
            ):
                raise ValueError(
                    f"optimizer state {name} must be an array of shape {buffer.shape} and "
                    f"dtype {buffer.dtype}."
                )
        for name, kind in self._state_scalars.items():
            if name in state:
                setattr(self, name, state[name] if isinstance(kind, tuple) else kind(state[name]))
        for name in self._state_buffers:
            getattr(self, name)[:] = state[name]

    def compiled(self) -> tuple["updates.Solver", int]:
        """This optimizer as the compiled steps take it, and the steps taken so far."""
        raise NotImplementedError

    def steps_done(self, t: int) -> None:
        """Record the step count the compiled steps reached (Adam's bias corrections)."""

    def epoch_starts(self, n_epochs: int) -> None:
        """Epoch start: the ``"cosine"`` schedule sets this epoch's rate.

        Parameters
        ----------
        n_epochs : int
            The schedule's horizon (the fit's ``max_iter``).
        """
        self.epochs_started += 1
        if self.lr_schedule == "cosine":
            self.learning_rate = cosine_rate(
                float(self.learning_rate_init), self.epochs_started, n_epochs
            )

    def iteration_ends(self, time_step: int) -> None:
        """Epoch end: no schedule by default."""

    def trigger_stopping(self, msg: str, verbose: bool) -> bool:
        """No improvement for a while: stop."""
        if verbose:
            print(msg + " Stopping.")
        return True


class SGDOptimizer(StochasticOptimizer):
    """Stochastic gradient descent with momentum and a learning-rate schedule.

    Parameters
    ----------
    n_params : int
        Length of the flat parameter buffer.
    dtype : numpy dtype
        The model's float dtype; state and scalars are kept in it.
    learning_rate_init : float
        Initial step size.
    lr_schedule : {"constant", "invscaling", "adaptive", "cosine"}
        ``learning_rate`` schedules: scikit-learn's three and fastmlp's cosine.
    momentum : float
        In [0, 1]; 0 makes a step plain ``p -= lr * g``.
    nesterov : bool
        Use Nesterov's momentum.
    power_t : float
        Exponent of the "invscaling" schedule.
    """

    kind = "sgd"
    _state_scalars = {
        **StochasticOptimizer._state_scalars, "momentum": float, "nesterov": bool,
        "power_t": float,
    }
    _required = ("learning_rate",)
    _state_buffers = ("velocity",)

    def __init__(
        self,
        n_params: int,
        dtype: np.dtype,
        learning_rate_init: float = 0.1,
        lr_schedule: str = "constant",
        momentum: float = 0.9,
        nesterov: bool = True,
        power_t: float = 0.5,
    ) -> None:
        super().__init__(dtype, learning_rate_init, lr_schedule)
        self.momentum = momentum
        self.nesterov = nesterov
        self.power_t = power_t
        self.velocity = np.zeros(n_params, dtype=self.dtype)

    @property
    def plain(self) -> bool:
        """True when a step is ``p -= lr * g``: no velocity to carry."""
        return self.momentum == 0

    def compiled(self) -> tuple["updates.Solver", int]:
        f, none = self.dtype.type, _empty(self.dtype)
        solver = updates.Solver(
            updates.SGD, float(self.learning_rate), f(self.momentum), bool(self.nesterov), f(0),
            f(0), f(0), self.velocity, none, none,
        )
        return solver, 0

    def iteration_ends(self, time_step: int) -> None:
        """Epoch end: the "invscaling" schedule decays with samples seen."""
        if self.lr_schedule == "invscaling":
            self.learning_rate = float(self.learning_rate_init) / (time_step + 1) ** self.power_t

    def trigger_stopping(self, msg: str, verbose: bool) -> bool:
        """No improvement for a while: stop, or (adaptive) divide the rate by 5."""
        if self.lr_schedule != "adaptive":
            if verbose:
                print(msg + " Stopping.")
            return True
        if self.learning_rate <= 1e-6:
            if verbose:
                print(msg + " Learning rate too small. Stopping.")
            return True
        self.learning_rate /= 5.0
        if verbose:
            print(f"{msg} Setting learning rate to {self.learning_rate:f}")
        return False


class AdamOptimizer(StochasticOptimizer):
    """Adam (Kingma & Ba, 2014) with scikit-learn's bias-corrected step size.

    Parameters
    ----------
    n_params : int
        Length of the flat parameter buffer.
    dtype : numpy dtype
        The model's float dtype; the moments and scalars are kept in it.
    learning_rate_init : float
    beta_1 : float
        Decay rate of the first moment estimates, in [0, 1).
    beta_2 : float
        Decay rate of the second moment estimates, in [0, 1).
    epsilon : float
        Added to the root of the second moment for stability.
    lr_schedule : str, default="constant"
        Only ``"cosine"`` changes Adam's rate; scikit-learn's schedules are
        SGD's alone, so Adam ignores them as scikit-learn does.
    """

    kind = "adam"
    _state_scalars = {
        **StochasticOptimizer._state_scalars, "t": int, "beta_1": float, "beta_2": float,
        "epsilon": float,
    }
    _required = ("learning_rate", "t")
    _state_buffers = ("ms", "vs")

    def __init__(
        self,
        n_params: int,
        dtype: np.dtype,
        learning_rate_init: float = 0.001,
        beta_1: float = 0.9,
        beta_2: float = 0.999,
        epsilon: float = 1e-8,
        lr_schedule: str = "constant",
    ) -> None:
        super().__init__(dtype, learning_rate_init, lr_schedule)
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.t = 0
        self.ms = np.zeros(n_params, dtype=self.dtype)
        self.vs = np.zeros(n_params, dtype=self.dtype)

    def compiled(self) -> tuple["updates.Solver", int]:
        # the rate stays float64: the compiled steps apply the bias corrections
        f = self.dtype.type
        solver = updates.Solver(
            updates.ADAM, float(self.learning_rate), f(0), False, f(self.beta_1),
            f(self.beta_2), f(self.epsilon), _empty(self.dtype), self.ms, self.vs,
        )
        return solver, self.t

    def steps_done(self, t: int) -> None:
        self.t = t


def cosine_rate(learning_rate_init: float, epoch: int, n_epochs: int) -> float:
    """The ``"cosine"`` rate of epoch ``epoch`` (from 1) of ``n_epochs``.

    A half cosine over the epochs, from the initial rate in the first towards 0
    (a rate of 0 would waste the last epoch, so it ends at ``n_epochs - 1`` of
    ``n_epochs`` steps); epochs past the horizon keep the last rate.
    """
    progress = (min(epoch, n_epochs) - 1) / n_epochs
    return learning_rate_init * 0.5 * (1.0 + math.cos(math.pi * progress))


def _finite(value) -> bool:
    try:
        return math.isfinite(value)
    except OverflowError:  # an int too large for a float
        return False
