"""The package stays small enough to read: no function body over 80 lines, no module over
600 lines, no function with more than 10 parameters (an estimator's ``__init__`` excepted,
as scikit-learn's take every hyper-parameter)."""

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "fastmlp"
MAX_BODY_LINES = 80
MAX_MODULE_LINES = 600
MAX_PARAMETERS = 10
ESTIMATORS = {"MLPClassifier", "MLPRegressor", "BaseMultilayerPerceptron"}

# Issue 29 item 3's remaining work: the compiled kernels still take their arguments one by
# one (and the steps module is too long). Grouping them into named tuples removes these
# entries; the test fails on any offender not listed, and on a listed one that is fixed,
# so that the list only shrinks.
ALLOWED = {
    "body engine/steps.py:_sample_step",
    "module engine/steps.py",
    "parameters engine/steps.py:_forward_backward",
    "parameters engine/steps.py:_minibatch_steps",
    "parameters engine/steps.py:_one_shard",
    "parameters engine/steps.py:_pipelined_batches",
    "parameters engine/steps.py:_sample_step",
    "parameters engine/steps.py:_shard_steps",
    "parameters engine/steps.py:_threaded_shards",
    "parameters engine/steps.py:_train_listed",
    "parameters engine/steps.py:minibatch_steps",
    "parameters engine/steps.py:per_sample_steps",
    "parameters engine/steps.py:pipelined_minibatch_steps",
    "parameters engine/steps.py:pipelined_per_sample_steps",
    "parameters engine/steps.py:serial_sharded_minibatch_steps",
    "parameters engine/steps.py:sharded_minibatch_steps",
}


def _functions(tree: ast.AST):
    """(qualified name, node) of every function, methods as Class.method."""
    def walk(node, prefix):
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef):
                yield prefix + child.name, child
                yield from walk(child, prefix + child.name + ".")
            elif isinstance(child, ast.ClassDef):
                yield from walk(child, prefix + child.name + ".")
            else:
                yield from walk(child, prefix)
    yield from walk(tree, "")


def _body_lines(node) -> int:
    """Lines of a function's body, its docstring left out."""
    body = node.body
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) \
            and isinstance(body[0].value.value, str):
        body = body[1:]
    if not body:
        return 0
    return body[-1].end_lineno - body[0].lineno + 1


def _parameters(node) -> int:
    args = node.args
    return (len(args.posonlyargs) + len(args.args) + len(args.kwonlyargs)
            + (args.vararg is not None) + (args.kwarg is not None))


def offenders(root: Path = PACKAGE) -> set[str]:
    """Every breach of the three limits in the package under ``root``, by name."""
    found = set()
    for path in sorted(root.rglob("*.py")):
        name = path.relative_to(root).as_posix()
        text = path.read_text()
        if len(text.splitlines()) > MAX_MODULE_LINES:
            found.add(f"module {name}")
        for qualname, node in _functions(ast.parse(text)):
            if _body_lines(node) > MAX_BODY_LINES:
                found.add(f"body {name}:{qualname}")
            estimator_init = qualname.split(".")[0] in ESTIMATORS and node.name == "__init__"
            if _parameters(node) > MAX_PARAMETERS and not estimator_init:
                found.add(f"parameters {name}:{qualname}")
    return found


def test_no_new_function_module_or_signature_is_too_big():
    new = sorted(offenders() - ALLOWED)
    assert not new, f"over the limits (split them): {new}"


def test_the_allow_list_only_names_remaining_offenders():
    fixed = sorted(ALLOWED - offenders())
    assert not fixed, f"no longer over the limits; remove them from ALLOWED: {fixed}"


@pytest.mark.parametrize(("source", "expected"), [
    ("def f():\n" + "    x = 1\n" * 81, {"body m.py:f"}),
    ("def f():\n" + "    x = 1\n" * 80, set()),
    ("def f(a, b, c, d, e, f, g, h, i, j, k):\n    pass\n", {"parameters m.py:f"}),
    ("class MLPClassifier:\n    def __init__(self, a, b, c, d, e, f, g, h, i, j, k):\n"
     "        pass\n", set()),
    ("class Other:\n    def __init__(self, a, b, c, d, e, f, g, h, i, j, k):\n        pass\n",
     {"parameters m.py:Other.__init__"}),
    ("x = 1\n" * 601, {"module m.py"}),
])
def test_the_check_catches_each_limit(tmp_path, source, expected):
    (tmp_path / "m.py").write_text(source)
    assert offenders(tmp_path) == expected
