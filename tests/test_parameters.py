"""fastmlp.parameters: the parameter table, and the option names it shares with the
estimator's docstring and signature."""

from fastmlp.estimator import MLPClassifier


def test_every_parameter_has_a_constraint_and_the_defaults_meet_them():
    from fastmlp import options, parameters

    assert set(parameters.PARAMETER_CONSTRAINTS) == set(MLPClassifier._get_param_names())
    parameters.validate_params(MLPClassifier().get_params())
    # the string choices are the option table's, not a copy
    choices = {
        name: constraint.values
        for name, constraints in parameters.PARAMETER_CONSTRAINTS.items()
        for constraint in constraints
        if isinstance(constraint, parameters.Options) and constraint.values != ("auto",)
    }
    assert choices == {
        "activation": options.ACTIVATIONS, "solver": options.SOLVERS,
        "learning_rate": options.LEARNING_RATES, "loss": options.LOSSES,
        "output_activation": options.OUTPUT_ACTIVATIONS, "weight_init": options.WEIGHT_INITS,
        "dtype": options.DTYPES,
    }


def test_documented_choices_and_defaults_are_the_option_table():
    """The option names live in fastmlp.options; the docstring's choice sets and the
    signature's defaults must say the same (first entry = default)."""
    import inspect
    import re

    from fastmlp import options

    table = {
        "activation": options.ACTIVATIONS, "solver": options.SOLVERS,
        "learning_rate": options.LEARNING_RATES, "loss": options.LOSSES,
        "output_activation": options.OUTPUT_ACTIVATIONS, "weight_init": options.WEIGHT_INITS,
    }
    documented = dict(re.findall(r"^\s*(\w+) : \{([^}]*)\}", MLPClassifier.__doc__, re.M))
    defaults = inspect.signature(MLPClassifier).parameters
    for name, names in table.items():
        assert tuple(re.findall(r'"(\w+)"', documented[name])) == names, name
        assert defaults[name].default == names[0], name
    assert tuple(re.findall(r'"(\w+)"', documented["dtype"])) == options.DTYPES
