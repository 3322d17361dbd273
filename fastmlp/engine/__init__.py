"""The engine: the flat parameter buffer, the optimizers and the compiled training
and prediction steps, with the processor and threading settings they run under.

The estimators ([fastmlp.multilayer][fastmlp.multilayer]) hand it checked
arrays; where the engine meets raw input (a NaN found mid-epoch, prediction's
fast path), it calls back into [fastmlp.validation][fastmlp.validation] for the
message. Importing this package imports no submodule, so ``import fastmlp``
stays free of Numba.

Which path runs when:

- ``fit`` with ``batch_size > 1``:
  [training][fastmlp.engine.training] runs guarded epochs of
  [Network.train_batches][fastmlp.engine.network.Network.train_batches], which
  hands runs of steps to [steps][fastmlp.engine.steps]: ``minibatch_steps`` on
  one core; ``pipelined_minibatch_steps`` when a second thread gathers the next
  rows; or to [shard_steps][fastmlp.engine.shard_steps]:
  ``sharded_minibatch_steps`` (or its serial twin on one thread) when a batch
  is cut into shards ([threads][fastmlp.engine.threads] decides). Sparse
  enough input on a processor with AVX-512 runs the first layer over the
  listed non-zero inputs
  ([sparse_first_layer][fastmlp.engine.sparse_first_layer] with the vector
  loops of [simd][fastmlp.engine.simd]). SciPy sparse input arrives as CSR
  rows ([csr][fastmlp.engine.csr]), always listed, straight from their arrays.
- ``fit`` with ``batch_size=1`` (plain SGD):
  [Network.train_per_sample][fastmlp.engine.network.Network.train_per_sample],
  [sample_steps][fastmlp.engine.sample_steps]' ``per_sample_steps``, or
  ``pipelined_per_sample_steps`` when a second thread lists the next samples'
  non-zeros.
- ``predict`` and ``predict_proba``: [prediction][fastmlp.engine.prediction]
  checks the input and runs one compiled call per chunk
  ([predict_kernels][fastmlp.engine.predict_kernels], whose ``forward_rows`` is
  also ``Network.forward``'s dense pass).
- Tests and gradient checks: the plain-NumPy specification
  ([reference][fastmlp.engine.reference]) and the kernels called from Python.

The elementwise arithmetic is in [kernels][fastmlp.engine.kernels] (with
[vmath][fastmlp.engine.vmath]'s vectorizable ``exp``), the optimizer state and
schedules in [optimizers][fastmlp.engine.optimizers] and their arithmetic in
[updates][fastmlp.engine.updates];
[fpmode][fastmlp.engine.fpmode] flushes subnormals while the steps run and
[prefetch][fastmlp.engine.prefetch] asks for the coming rows. The compiled steps
take their arguments grouped in the named tuples of
[arguments][fastmlp.engine.arguments].
"""
