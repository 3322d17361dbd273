"""The string options of MLPClassifier, written once.

The estimator validates against these tuples, the kernels map them to integer
codes, and the command line offers them as choices; the first entry of each is
MLPClassifier's default where it has one.
"""

ACTIVATIONS = ("relu", "identity", "logistic", "tanh")
"""Hidden-layer activations (``activation=``)."""
OUTPUT_ACTIVATIONS = ("softmax", "logistic")
"""Output-layer activations (``output_activation=``)."""
LOSSES = ("log_loss", "squared_error")
"""Training losses (``loss=``)."""
SOLVERS = ("adam", "sgd")
"""Optimizers (``solver=``)."""
LEARNING_RATES = ("constant", "invscaling", "adaptive", "cosine")
"""Step-size schedules (``learning_rate=``): scikit-learn's three, which only
``solver="sgd"`` follows, and fastmlp's ``"cosine"``, which both solvers follow."""
WEIGHT_INITS = ("glorot", "normal")
"""Initializations (``weight_init=``)."""
DTYPES = ("float32", "float64")
"""Float types of parameters and arithmetic (``dtype=``; None picks from the input)."""
