"""The network: parameters in one flat buffer, and the passes over a batch.

All weights and biases of the network live in one contiguous array (weights
first, each layer's ``(n_in, n_out)`` matrix row-major, then the biases);
``coefs`` and ``intercepts`` are views into it. Gradients use the same layout,
so one kernel call updates the whole network and a snapshot is one copy.

Training runs compiled: [Network.train_batches][fastmlp.engine.network.Network.train_batches]
and [Network.train_per_sample][fastmlp.engine.network.Network.train_per_sample] hand
whole runs of steps to [steps][fastmlp.engine.steps], [shard_steps][fastmlp.engine.shard_steps]
or [sample_steps][fastmlp.engine.sample_steps] (forward, backward and update with no Python
in between), in buffers allocated once per fit ([Workspace][fastmlp.engine.network.Workspace]).
Prediction is compiled the same way
([forward_rows][fastmlp.engine.predict_kernels.forward_rows], on the same BLAS); only the
gradient checks (``reference.gradients``) run the kernels from Python.

Shapes below: B rows in a batch, d input features, n units of a layer, k
output units (classes); F is the network's float dtype, float32 or float64.
"""

import math
from collections.abc import Sequence

import numpy as np

from fastmlp.engine import (
    arguments,
    csr,
    first_layer,
    kernels,
    narrow_first_layer,
    predict_kernels,
    sample_steps,
    shard_steps,
    sparse_first_layer,
    steps,
    threads,
    updates,
)
from fastmlp.exceptions import NonFiniteInputError

PREDICT_CHUNK_ROWS = 4096
NON_FINITE_INPUT = "Input X contains NaN or infinity; remove or impute those values first."
# Below this fraction of non-zero inputs the per-sample path skips zero inputs.
SPARSE_DENSITY = 0.5


def input_scale(X: np.ndarray, dtype: np.dtype) -> np.generic:
    """The factor applied to X as batches are gathered.

    uint8 inputs are 8-bit intensities, scaled to [0, 1] batch by batch, so the
    data set itself is never converted to float.

    Parameters
    ----------
    X : ndarray
        The input; only its dtype matters.
    dtype : numpy dtype
        The network's float dtype F.

    Returns
    -------
    numpy scalar of type F
        1/255 for uint8 X, else 1.
    """
    return np.dtype(dtype).type(1 / 255 if X.dtype == np.uint8 else 1)


class Network:
    """A fully connected feed-forward network and its forward/backward passes.

    All parameters live in ``params``, one flat array of dtype F: every
    layer's weights (``(n_in, n_out)`` row-major), then every layer's biases.
    ``coefs`` and ``intercepts`` are per-layer views of it.

    Parameters
    ----------
    layer_sizes : sequence of int
        Units per layer, input first: ``(784, 16, 10)`` is 784-16-10.
    hidden_activation : str
        Activation of every hidden layer, one of ``options.ACTIVATIONS``.
    output_activation : str
        Activation of the output layer, one of ``options.OUTPUT_ACTIVATIONS``.
    loss : str
        Loss computed with the output layer, one of ``options.LOSSES``.
    dtype : float32 or float64
        F, the dtype of parameters, buffers and arithmetic.
    """

    def __init__(
        self,
        layer_sizes: Sequence[int],
        hidden_activation: str,
        output_activation: str,
        loss: str,
        dtype: np.dtype,
    ) -> None:
        self.layer_sizes = tuple(int(n) for n in layer_sizes)
        self.dtype = np.dtype(dtype)
        self.hidden_kind = kernels.HIDDEN_ACTIVATIONS[hidden_activation]
        self.output_kind = kernels.OUTPUT_ACTIVATIONS[output_activation]
        self.loss_kind = kernels.LOSSES[loss]
        shapes = list(zip(self.layer_sizes[:-1], self.layer_sizes[1:], strict=True))
        self.layer_shapes = np.array(shapes, dtype=np.int64)
        self.n_layers = len(shapes)  # weight layers: hidden layers + output
        sizes = [n_in * n_out for n_in, n_out in shapes] + [n_out for _, n_out in shapes]
        offsets = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
        self.n_weights = int(offsets[len(shapes)])
        self.weight_offsets = offsets[: len(shapes)]
        self.bias_offsets = offsets[len(shapes) : 2 * len(shapes)]
        self.params = np.zeros(int(offsets[-1]), dtype=self.dtype)
        self.coefs, self.intercepts = self.views(self.params)
        widths = self.layer_shapes[:, 1]
        self.layout = arguments.Layout(
            self.layer_shapes, self.weight_offsets, self.bias_offsets,
            np.concatenate([[0], np.cumsum(widths)[:-1]]).astype(np.int64), self.n_weights,
        )
        self.kinds = arguments.Kinds(self.hidden_kind, self.output_kind, self.loss_kind)
        # threads the last epoch was given (threads.engine_threads)
        self.engine_threads = 1

    def __getstate__(self) -> dict:
        # coefs/intercepts are views of params; pickled as such they would come back as
        # independent copies. They are rebuilt from params instead (pickle and deepcopy).
        state = self.__dict__.copy()
        del state["coefs"], state["intercepts"]
        return state

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self.coefs, self.intercepts = self.views(self.params)

    def views(self, flat: np.ndarray) -> tuple[list[np.ndarray], list[np.ndarray]]:
        """Per-layer views into a flat buffer laid out like ``params``.

        Parameters
        ----------
        flat : ndarray of shape (n_params,)
            ``params`` itself, or a gradient or optimizer buffer of the same layout.

        Returns
        -------
        coefs : list of ndarray
            The i-th of shape (layer_i, layer_i+1), a view of ``flat``.
        intercepts : list of ndarray
            The i-th of shape (layer_i+1,), a view of ``flat``.
        """
        coefs, intercepts = [], []
        for (n_in, n_out), w_off, b_off in zip(
            self.layer_shapes, self.weight_offsets, self.bias_offsets, strict=True
        ):
            coefs.append(flat[w_off : w_off + n_in * n_out].reshape(n_in, n_out))
            intercepts.append(flat[b_off : b_off + n_out])
        return coefs, intercepts

    def weights_squared_norm(self) -> float:
        """Sum of squared weights (biases excluded), for the L2 penalty's loss term."""
        weights = self.params[: self.n_weights]
        return float(np.dot(weights, weights))

    # -- prediction --------------------------------------------------------------------

    def forward(self, X: np.ndarray) -> np.ndarray:
        """Output activations for every row of X, in chunks to bound memory.

        Runs 4096 rows at a time through
        [forward_rows][fastmlp.engine.predict_kernels.forward_rows], compiled and on the
        same BLAS as training; uint8 input is never converted as a whole.

        Parameters
        ----------
        X : ndarray of shape (n, d), C-contiguous, or csr.Rows
            uint8 (scaled by 1/255), float32 or float64; CSR rows run over
            their stored entries.

        Returns
        -------
        ndarray of shape (n, k), dtype F
            Softmax probabilities or logistic unit outputs.
        """
        if isinstance(X, csr.Rows):
            return predict_kernels.csr_outputs(self, X)
        n = X.shape[0]
        out = np.empty((n, self.layer_sizes[-1]), dtype=self.dtype)
        chunk = min(PREDICT_CHUNK_ROWS, max(n, 1))
        inputs = np.empty(chunk * X.shape[1], dtype=self.dtype)
        units = np.empty(chunk * int(self.layer_shapes[:, 1].sum()), dtype=self.dtype)
        scale = input_scale(X, self.dtype)
        for start in range(0, n, chunk):
            stop = min(start + chunk, n)
            predict_kernels.forward_rows(
                X, start, stop, scale, self.params, self.layout, self.kinds, inputs, units,
                out[start:stop],
            )
        return out

    # -- training ----------------------------------------------------------------------

    def train_batches(
        self,
        workspace: "Workspace",
        inputs: "TrainingInput",
        y: np.ndarray,
        rows: np.ndarray,
        optimizer,
        alpha: float,
        check_input: bool = False,
    ) -> float:
        """One epoch of mini-batch steps over the rows of inputs, compiled.

        Runs [steps.minibatch_steps][fastmlp.engine.steps.minibatch_steps] (or, for
        batches cut into shards,
        [sharded_minibatch_steps][fastmlp.engine.shard_steps.sharded_minibatch_steps] on
        the threads [threads.engine_threads][fastmlp.engine.threads.engine_threads]
        allows, its serial twin on one) on chunks of samples
        ([steps.chunk_samples][fastmlp.engine.steps.chunk_samples]), BLAS on one thread
        throughout; between chunks Python can answer Ctrl-C, and the optimizer's
        step count always matches the weights. ``engine_threads`` records the
        threads the epoch was given.

        Parameters
        ----------
        workspace : Workspace
            Buffers for this network and batch size.
        inputs : TrainingInput
            The training matrix, (n, d), in its own dtype.
        y : kernels.Targets, or ndarray of shape (n,) int64
            Class indices or target values, and sample weights, in the order of
            the input rows ([Targets][fastmlp.engine.kernels.Targets]); bare class
            indices are unweighted labels.
        rows : ndarray of shape (n,), int64
            The epoch's sample order.
        optimizer : SGDOptimizer or AdamOptimizer
            Its state is updated in place.
        alpha : float
            L2 strength.
        check_input : bool, default=False
            Check every batch of float input for NaN or infinity as it is
            read, instead of a separate pass over X.

        Returns
        -------
        float
            scikit-learn's epoch loss: batch losses (mean data loss +
            ``0.5 * alpha * ||W||^2 / batch size``, or, with sample weights, the
            weighted mean and the sum of the batch's weights) averaged with
            batch-size weights; NaN as soon as a batch diverges (the epoch stops there).

        Raises
        ------
        ValueError
            With ``check_input``: X holds NaN or infinity (the epoch stops
            before the batch that holds it, or before the block of batches
            gathered ahead with it).
        """
        ws = workspace
        if not isinstance(y, kernels.Targets):
            y = kernels.make_targets(y, None, self.dtype)
        n = rows.shape[0]
        X = inputs.X
        in_order = n == X.shape[0] and bool(np.all(rows[1:] > rows[:-1]))
        in_place = (in_order and isinstance(X, np.ndarray) and X.dtype == self.dtype
                    and X.flags.c_contiguous)
        in_place_X = X if in_place else ws.not_in_place
        chunk = steps.chunk_samples(self.params.size, ws.batch_size)
        solver, t = optimizer.compiled()
        model = arguments.Model(self.params, self.layout, self.kinds, solver)
        check = check_input and inputs.X.dtype != np.uint8
        # batches too small to cut into shards, whose rows are gathered: a second
        # thread gathers the next block, in calls of two blocks or more
        pipelined = (ws.shards is None and not in_place and not ws.lists_nonzeros
                     and chunk >= 2 * ws.gather_rows and threads.can_pipeline())
        if ws.shards is not None:
            n_threads = threads.engine_threads(ws.shards.grads.shape[0])
            steps_of, buffers = (shard_steps.sharded_minibatch_steps if n_threads > 1
                                 else shard_steps.serial_sharded_minibatch_steps), ws.shards
        else:
            n_threads = 2 if pipelined else 1
            steps_of, buffers = steps.minibatch_steps, ws.buffers
        source = arguments.Source(inputs.X, in_place_X, y, rows, inputs.scale, check)
        total = 0.0
        with threads.single_threaded_blas(), threads.running_on(n_threads):
            for start in range(0, n, chunk):
                stop = min(start + chunk, n)
                if pipelined:
                    loss, t = steps.pipelined_minibatch_steps(
                        source, start, stop, ws.batch_size, model, t, float(alpha), buffers,
                        ws.nonzeros, ws.gather_slots(),
                    )
                else:
                    loss, t = steps_of(source, start, stop, ws.batch_size, model, t,
                                       float(alpha), buffers, ws.nonzeros)
                optimizer.steps_done(t)
                if loss == math.inf:
                    raise NonFiniteInputError(NON_FINITE_INPUT)
                if not math.isfinite(loss):
                    return math.nan
                total += loss
        self.engine_threads = n_threads
        return total / n

    def train_per_sample(
        self,
        inputs: "TrainingInput",
        y: np.ndarray,
        rows: np.ndarray,
        learning_rate: float,
        alpha: float,
        check_input: bool = False,
    ) -> float:
        """One epoch of plain SGD with batch size 1, compiled.

        The notebook's regime: each sample updates the weights before the next
        is seen. Runs [per_sample_steps][fastmlp.engine.sample_steps.per_sample_steps]
        on chunks of samples ([steps.chunk_samples][fastmlp.engine.steps.chunk_samples];
        Ctrl-C is answered between them), skipping zero inputs when ``inputs.skip_zeros``; then,
        given a second thread ([threads.can_pipeline][fastmlp.engine.threads.can_pipeline]),
        [pipelined_per_sample_steps][fastmlp.engine.sample_steps.pipelined_per_sample_steps]
        lists the inputs' non-zeros on it, the same steps bit for bit.

        Parameters
        ----------
        inputs : TrainingInput
            The training matrix, (n, d), and whether to skip its zeros.
        y : ndarray of shape (n,), int64
            Class indices, in the same order as the input rows.
        rows : ndarray of shape (n,), int64
            The epoch's sample order.
        learning_rate : float
            Step size, cast to F.
        alpha : float
            L2 strength; each step shrinks the weights by ``1 - lr * alpha``.
        check_input : bool, default=False
            Check each sample of float input for NaN or infinity as it is read.

        Returns
        -------
        float
            Mean per-sample loss of the epoch (plus the L2 term at the final
            weights, for reporting).
        """
        d = inputs.X.shape[1]
        scratch = sample_steps.allocate(int(self.layer_shapes[:, 1].sum()), d, self.dtype)
        n = rows.shape[0]
        total = 0.0
        chunk = steps.chunk_samples(self.params.size)
        check = check_input and inputs.X.dtype != np.uint8
        source = arguments.Source(inputs.X, np.empty((0, d), self.dtype), y, rows, inputs.scale,
                                  check)
        model = arguments.Model(self.params, self.layout, self.kinds,
                                updates.plain_sgd(learning_rate, self.dtype))
        pipelined = inputs.skip_zeros and threads.can_pipeline()
        if pipelined:
            slots = sample_steps.allocate_slots(d, self.dtype)
        self.engine_threads = 2 if pipelined else 1
        with threads.running_on(self.engine_threads):
            for start in range(0, n, chunk):
                stop = min(start + chunk, n)
                if pipelined:
                    loss = sample_steps.pipelined_per_sample_steps(
                        source, start, stop, model, float(alpha), scratch, slots)
                else:
                    loss = sample_steps.per_sample_steps(
                        source, inputs.skip_zeros, start, stop, model, float(alpha), scratch)
                if loss == math.inf and check_input:
                    raise NonFiniteInputError(NON_FINITE_INPUT)  # or the weights blew up
                total += loss
        if alpha:
            # scikit-learn charges every one-sample batch the L2 term at that step's
            # weights; the epoch's final weights stand in for them here (reporting only).
            total += 0.5 * alpha * self.weights_squared_norm() * n
        return total / n


class TrainingInput:
    """The training matrix as the kernels read it.

    X stays in its own dtype (uint8 stays uint8); ``scale`` converts it batch by
    batch. For the per-sample path (``sparse_first_layer=True``), when at most
    ``SPARSE_DENSITY`` of the entries are non-zero, the first layer skips the
    zero inputs of each sample (``skip_zeros``): on MNIST, about 150 of 784
    pixels per image are non-zero. Mini-batches decide for themselves, with a
    stricter threshold ([first_layer.lists_nonzeros][fastmlp.engine.first_layer.lists_nonzeros]).

    Parameters
    ----------
    X : ndarray of shape (n, d), C-contiguous
        uint8, float32 or float64.
    dtype : numpy dtype
        The network's float dtype F.
    sparse_first_layer : bool, default=False
        Skip zero inputs if X is sparse enough.

    Attributes
    ----------
    X : ndarray of shape (n, d)
        The input, not copied.
    scale : numpy scalar of type F
        From [input_scale][fastmlp.engine.network.input_scale].
    skip_zeros : bool
        The per-sample path lists each sample's non-zero inputs and runs the
        first layer over them only.
    """

    def __init__(self, X: np.ndarray, dtype: np.dtype, sparse_first_layer: bool = False) -> None:
        self.X = X
        self.scale = input_scale(X, dtype)
        self.skip_zeros = sparse_first_layer and first_layer.density(X) <= SPARSE_DENSITY


class Workspace:
    """Per-fit batch buffers: inputs, activations, deltas and the flat gradient.

    Allocated once for a batch size, as flat arrays
    ([arguments.Buffers][fastmlp.engine.arguments.Buffers]) that the compiled steps carve
    into ``(m, n)`` blocks per layer, for any batch length ``m``. The Python
    passes (``reference.gradients``) read the same blocks through
    [batch][fastmlp.engine.network.Workspace.batch].

    Parameters
    ----------
    network : Network
        Gives the layer widths, the layout and dtype F.
    batch_size : int
        B, the largest batch.
    X : ndarray of shape (n, d)
        The training input; its width and density are used (the listing of
        non-zeros, [first_layer.lists_nonzeros][fastmlp.engine.first_layer.lists_nonzeros]).

    Attributes
    ----------
    buffers : arguments.Buffers
        The flat buffers.
    grads : ndarray of shape (n_params,), dtype F
        The batch's gradient, laid out like ``network.params``.
    grad_coefs, grad_intercepts : list of ndarray
        Per-layer views of ``grads``.
    not_in_place : ndarray of shape (0, d), dtype F
        What the compiled steps get instead of X when its rows cannot be read in place.
    """

    def __init__(self, network: Network, batch_size: int, X: np.ndarray) -> None:
        dtype = network.dtype
        self.batch_size = batch_size
        self.dtype = dtype
        self.layout = network.layout
        n_units = int(network.layer_shapes[:, 1].sum())
        self.grads = np.zeros_like(network.params)
        self.buffers = arguments.Buffers(
            np.empty(batch_size * X.shape[1], dtype=dtype),
            np.empty(batch_size * n_units, dtype=dtype),
            np.empty(batch_size * n_units, dtype=dtype),
            self.grads,
        )
        self.grad_coefs, self.grad_intercepts = network.views(self.grads)
        self.not_in_place = np.empty((0, X.shape[1]), dtype=dtype)
        self._views: dict[int, BatchViews] = {}
        n_shards = threads.n_shards(batch_size, network.params.size, dtype.itemsize,
                                    first_layer.row_work(network, X))
        self.shards = None
        d = self.d = X.shape[1]
        self._gather_slots: np.ndarray | None = None
        self._nonzeros: sparse_first_layer.Listing | None = None
        self._csr = X if isinstance(X, csr.Rows) else None
        self.lists_by_blocks = first_layer.lists_by_blocks(network, X)
        self.lists_nonzeros = not self.lists_by_blocks and first_layer.lists_nonzeros(network, X)
        if n_shards > 1:
            rows = -(-batch_size // n_shards)
            self.shards = arguments.Buffers(
                np.empty((n_shards, rows * d), dtype=dtype),
                np.empty((n_shards, rows * n_units), dtype=dtype),
                np.empty((n_shards, rows * n_units), dtype=dtype),
                np.zeros((n_shards, network.params.size), dtype=dtype),
            )

    @property
    def nonzeros(self) -> sparse_first_layer.Listing:
        """The batch's (or, for split batches, each shard's) listing of non-zero
        inputs (by rows or by blocks), empty unless ``lists_nonzeros`` or
        ``lists_by_blocks``; allocated on first use, as it
        takes a few times the gather buffer's memory."""
        if self._nonzeros is None:
            shards = 0 if self.shards is None else self.shards.grads.shape[0]
            rows = self.batch_size if self.shards is None else self.shards.inputs.shape[1] // self.d
            if self.lists_by_blocks:
                self._nonzeros = narrow_first_layer.allocate(rows, self.d, self.dtype, shards)
            elif self.lists_nonzeros:
                self._nonzeros = sparse_first_layer.allocate(
                    rows, self.d, self.dtype, shards, entries=self.batch_entries(rows))
            else:
                self._nonzeros = sparse_first_layer.no_listing(self.dtype, shards)
        return self._nonzeros

    def batch_entries(self, rows: int) -> int | None:
        """The most non-zeros that ``rows`` rows of CSR X hold (None for dense X)."""
        return None if self._csr is None else csr.most_entries(self._csr, rows)

    def gather_slots(self) -> np.ndarray:
        """(2, K * d) F: the two blocks of the pipelined gather
        ([steps.pipelined_minibatch_steps][fastmlp.engine.steps.pipelined_minibatch_steps]),
        K about ``steps.GATHER_BLOCK`` rows, whole batches; allocated on first use."""
        if self._gather_slots is None:
            self._gather_slots = np.empty((2, self.gather_rows * self.d), dtype=self.dtype)
        return self._gather_slots

    @property
    def gather_rows(self) -> int:
        """Rows per block of the pipelined gather: whole batches, about ``steps.GATHER_BLOCK``."""
        return max(1, steps.GATHER_BLOCK // self.batch_size) * self.batch_size

    def batch(self, m: int) -> "BatchViews":
        """The buffers of a batch of ``m <= batch_size`` rows, cached per ``m``.

        Returns
        -------
        BatchViews
            ``(m, n)`` blocks of the flat buffers, the same the compiled steps use.
        """
        views = self._views.get(m)
        if views is None:
            layout, buffers = self.layout, self.buffers

            def blocks(flat):
                return [
                    flat[start * m:(start + n_out) * m].reshape(m, n_out)
                    for start, (_, n_out) in zip(layout.unit_offsets, layout.shapes, strict=True)
                ]

            d = buffers.inputs.shape[0] // self.batch_size
            views = BatchViews(
                buffers.inputs[: m * d].reshape(m, d), blocks(buffers.units),
                blocks(buffers.deltas),
            )
            self._views[m] = views
        return views


class BatchViews:
    """One batch length's views of the workspace buffers.

    Attributes
    ----------
    inputs : ndarray of shape (m, d), dtype F
        The gathered, scaled batch.
    activations : list of ndarray
        Per layer, shape (m, n_out), dtype F: pre-activations, then activations.
    deltas : list of ndarray
        Per layer, shape (m, n_out), dtype F: ``dL/dZ`` scaled to a batch mean.
    """

    __slots__ = ("inputs", "activations", "deltas")

    def __init__(self, inputs, activations, deltas) -> None:
        self.inputs = inputs
        self.activations = activations
        self.deltas = deltas

