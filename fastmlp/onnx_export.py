"""ONNX export: a fitted network as a standard ONNX graph, for serving without Python.

The graph uses only core operators every ONNX runtime implements: ``Cast`` and
``Mul`` for the 1/255 scaling of uint8 images, one ``Gemm`` per layer, ``Relu``,
``Sigmoid`` or ``Tanh`` (nothing for identity) after each hidden layer, then an
output head. A classifier's head gives ``probabilities`` (``Softmax``, or
``Sigmoid`` normalized to sum to 1, as ``predict_proba`` does) and ``label``
(``ArgMax`` of the output layer, mapped to the class labels with ``Gather``, as
``predict`` does). An identity output layer (a regressor's) gives
``predictions``, the output units themselves.

The ``onnx`` package is needed only here (``pip install "fastmlp[onnx]"``); the
file is written atomically (see [fastmlp.atomic][fastmlp.atomic]).
"""

import os
from pathlib import Path

import numpy as np

from fastmlp.atomic import atomic_write

OPSET = 17
"""The ONNX operator set the graphs declare: onnxruntime 1.14 (2023) and later run it."""
IR_VERSION = 8
"""The ONNX file format version written, the one that goes with ``OPSET``."""
INPUT_DTYPES = ("float32", "float64", "uint8")
"""Element types the graph's input ``X`` may be declared with."""

_HIDDEN_OPS = {"relu": "Relu", "logistic": "Sigmoid", "tanh": "Tanh", "identity": None}
_OUTPUT_ACTIVATIONS = ("softmax", "logistic", "identity")


def export(model, path, input_dtype=None) -> None:
    """Write ``model`` (fitted) to ``path`` as an ONNX model; see ``to_onnx``.

    The output layer's activation picks the head: softmax or logistic gives a
    classifier's ``label`` and ``probabilities``, identity a regressor's
    ``predictions``.
    """
    network = model._fitted_network()  # NotFittedError first
    target = _check_path(path)
    onnx = _import_onnx()
    input_dtype = _check_input_dtype(input_dtype, network.dtype)
    output = model.out_activation_
    classes = getattr(model, "classes_", None) if output != "identity" else None
    graph = network_graph(
        onnx, network.coefs, network.intercepts, model._fitted_architecture()["activation"],
        output, input_dtype, classes=classes, name=type(model).__name__,
    )
    proto = onnx.helper.make_model(
        graph, opset_imports=[onnx.helper.make_opsetid("", OPSET)],
        producer_name="fastmlp", ir_version=IR_VERSION,
    )
    onnx.checker.check_model(proto)
    data = proto.SerializeToString()
    with atomic_write(target) as file:
        file.write(data)


def network_graph(onnx, coefs, intercepts, hidden, output, input_dtype, *, classes=None,
                  name="fastmlp"):
    """The ONNX graph of a network with weights ``coefs`` and biases ``intercepts``.

    Parameters
    ----------
    onnx : module
        The imported ``onnx`` package.
    coefs, intercepts : list of ndarray
        Per layer, (n_in, n_out) weights and (n_out,) biases, all of one float dtype F.
    hidden : str
        Activation of every hidden layer: ``"relu"``, ``"logistic"``, ``"tanh"``
        or ``"identity"``.
    output : str
        Activation of the output layer: ``"softmax"``, ``"logistic"`` or ``"identity"``.
    input_dtype : numpy dtype
        Element type of input ``X``: F, the other float type (cast to F) or
        uint8 (cast to F and scaled by 1/255, as fastmlp scales it).
    classes : ndarray of shape (k,), optional
        Class labels: adds the ``label`` output. Required unless output is identity.
    name : str
        The graph's name.

    Returns
    -------
    onnx.GraphProto
        Input ``X`` (N, n_features); outputs ``label`` (N,) and ``probabilities``
        (N, k) for a classifier, ``predictions`` (N, k) for identity output.
    """
    if hidden not in _HIDDEN_OPS or output not in _OUTPUT_ACTIVATIONS:
        raise ValueError(f"No ONNX export for activation {hidden!r} with output {output!r}.")
    helper = onnx.helper
    dtype = coefs[0].dtype
    elem = helper.np_dtype_to_tensor_dtype(dtype)
    nodes, inits = [], []

    def const(name, value):
        inits.append(onnx.numpy_helper.from_array(np.ascontiguousarray(value), name))
        return name

    def node(op, inputs, out, **attrs):
        nodes.append(helper.make_node(op, inputs, [out], name=out, **attrs))
        return out

    a = "X"
    if input_dtype != dtype:
        a = node("Cast", [a], "X_cast", to=elem)
    if input_dtype == np.uint8:
        # the same F product fastmlp's kernels compute: x * F(1/255)
        a = node("Mul", [a, const("uint8_scale", np.array(1 / 255, dtype=dtype))], "X_scaled")
    last = len(coefs) - 1
    for i, (W, b) in enumerate(zip(coefs, intercepts, strict=True)):
        z = node("Gemm", [a, const(f"W{i}", W), const(f"b{i}", b)], f"Z{i}")
        op = _HIDDEN_OPS[hidden] if i < last else None
        a = node(op, [z], f"A{i}") if op else z
    k = coefs[-1].shape[1]
    outputs = _head(onnx, node, const, a, output, dtype, classes)
    shapes = {"label": ["N"], "probabilities": ["N", k], "predictions": ["N", k]}
    return helper.make_graph(
        nodes, name,
        [helper.make_tensor_value_info("X", helper.np_dtype_to_tensor_dtype(input_dtype),
                                       ["N", coefs[0].shape[0]])],
        [helper.make_tensor_value_info(out, kind, shapes[out]) for out, kind in outputs],
        initializer=inits,
    )


def _head(onnx, node, const, z, output, dtype, classes):
    """Nodes from the output layer's pre-activations ``z`` to the graph outputs:
    (name, element type) pairs."""
    elem = onnx.helper.np_dtype_to_tensor_dtype(dtype)
    if output == "identity":
        node("Identity", [z], "predictions")
        return [("predictions", elem)]
    if classes is None:
        raise ValueError("A classifier's ONNX graph needs its classes_.")
    if output == "softmax":
        scores = node("Softmax", [z], "probabilities", axis=1)
    else:  # predict_proba normalizes the logistic units to sum to 1
        scores = node("Sigmoid", [z], "scores")
        total = node("ReduceSum", [scores, const("sum_axes", np.array([1], dtype=np.int64))],
                     "scores_sum", keepdims=1)
        tiny = const("tiny", np.array(np.finfo(dtype).tiny, dtype=dtype))
        node("Div", [scores, node("Max", [total, tiny], "scores_sum_safe")], "probabilities")
    # predict's argmax is over the output units before normalization, and takes the first max
    index = node("ArgMax", [scores], "class_index", axis=1, keepdims=0)
    labels = _labels(classes)
    node("Gather", [const("classes", labels), index], "label", axis=0)
    label_elem = onnx.helper.np_dtype_to_tensor_dtype(labels.dtype) if labels.dtype != object \
        else onnx.TensorProto.STRING
    return [("label", label_elem), ("probabilities", elem)]


def _labels(classes: np.ndarray) -> np.ndarray:
    """The class labels as an array ONNX can hold: text becomes a string tensor."""
    classes = np.asarray(classes)
    if classes.dtype.kind in "US" or (
        classes.dtype == object and all(isinstance(c, str | bytes) for c in classes)
    ):
        return classes.astype(object)
    if classes.dtype.kind not in "biuf":
        raise ValueError(
            f"Class labels of dtype {classes.dtype} cannot be stored in an ONNX graph; "
            "refit with integer, float, bool or str labels."
        )
    return classes


def _check_input_dtype(input_dtype, model_dtype: np.dtype) -> np.dtype:
    if input_dtype is None:
        return model_dtype
    try:
        dtype = np.dtype(input_dtype)
    except TypeError:
        dtype = None
    if dtype is None or dtype.name not in INPUT_DTYPES:
        raise ValueError(
            f"input_dtype must be one of {INPUT_DTYPES} or None (the model's dtype); "
            f"got {input_dtype!r}."
        )
    return dtype


def _check_path(path) -> Path:
    """``path`` as a Path whose folder exists and which is not itself a folder."""
    try:
        target = Path(os.fspath(path))
    except TypeError:
        raise TypeError(
            f"path must be a str or os.PathLike; got {type(path).__name__}."
        ) from None
    if target.is_dir():
        raise IsADirectoryError(f"Cannot write the ONNX model to {target}: it is a folder; "
                                "give a file name such as model.onnx.")
    if not target.parent.is_dir():
        raise FileNotFoundError(f"Cannot write the ONNX model to {target}: folder "
                                f"{target.parent} does not exist; create it first.")
    return target


def _import_onnx():
    try:
        import onnx
        import onnx.numpy_helper  # noqa: F401
    except ImportError:
        raise ImportError(
            "Exporting to ONNX needs the onnx package: pip install \"fastmlp[onnx]\"."
        ) from None
    return onnx
