"""One Monte Carlo verification case: what ``nrmt verify --json`` computes, as a function.

:func:`verify_case` samples the model's matrices, compares their eigenvalues with the model's limit
law (:func:`nrmt.numerics.compare.compare`) and returns the JSON-ready dict that
``nrmt verify --json`` prints — the same keys, the same decimal strings. The command line and
``nrmt sweep`` (one Dask task a case) both call it, so a sweep's row and a single run with the same
options and seed agree to the last digit.

Options (:data:`VERIFY_OPTIONS`, the long options of ``nrmt verify`` with ``_`` for ``-``):
``activation`` (the EXPR), ``phi``, ``psi`` (a number, or a list: one ψ per layer), ``n0``,
``sigma`` | ``sigma_w``/``sigma_x``, ``bias_sigma``, ``entries``, ``trials``, ``seed``,
``moments``, ``dps``, ``param`` (values of the activation's free parameters), and for deep
Jacobians ``jacobian``, ``depth``, ``sigma_b``, ``q0``, ``weights``.

Extending (one small edit per model): :func:`build_model` turns the options into a model (a
branch per model: bias, several layers, Jacobians), :func:`model_sizes` gives the sizes printed,
and the model's own ``sample`` and ``law`` do the rest. This module computes no theory itself.

>>> r = verify_case(activation="tanh(x)", phi=0.5, psi=0.5, n0=60, seed=1)
>>> r["n0"], r["n1"], r["m"], r["seed"]
(60, 120, 120, 1)
>>> float(r["ks_ratio"]) < 6
True
"""

import functools
import inspect
import time
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

from nrmt.options import Option, normalise

__all__ = ["verify_case", "verify_run", "verify_options", "VerifyRun", "VERIFY_OPTIONS", "scales",
           "build_model", "model_sizes", "check_resources", "SAMPLE_DIGITS"]

#: significant digits of sampled statistics in the JSON (they carry Monte Carlo noise)
SAMPLE_DIGITS = 8

#: the options of one verification case (``nrmt verify``'s long options, ``-`` written ``_``)
VERIFY_OPTIONS = {
    "activation": Option("text", help="the activation EXPR"),
    "phi": Option("positive", None),
    "psi": Option("positive_list", None),
    "n0": Option("positive_int"),
    "sigma": Option("positive", None),
    "sigma_w": Option("positive", None),
    "sigma_x": Option("positive", None),
    "bias_sigma": Option("nonnegative", 0.0),
    "entries": Option("entries", "gaussian"),
    "trials": Option("positive_int", 1),
    "seed": Option("seed", None),
    "moments": Option("int_range", 4, (0, 8)),
    "dps": Option("int_range", 15, (1, 1000)),
    "param": Option("params", {}),
    "jacobian": Option("flag", False),
    "depth": Option("positive_int", None),
    "sigma_b": Option("nonnegative", 0.0),
    "q0": Option("nonnegative", None),
    "weights": Option("choice", "iid", ("iid", "orthogonal")),
}


@dataclass
class VerifyRun:
    """Everything one verification produced: the JSON ``result``, the pooled eigenvalue
    ``sample``, the ``law``, the :class:`~nrmt.numerics.compare.Comparison` and the ``model``."""

    result: dict
    sample: Any
    law: Any
    comparison: Any
    model: Any


def verify_options(**options):
    """Check and normalise the options of one case (defaults filled, canonical values).

    Raises ``ValueError``/``TypeError`` (one line) for an unknown option, a value of the wrong
    kind, or a missing one: ``phi`` and ``psi`` unless ``jacobian``; ``depth`` and ``sigma_w``
    with ``jacobian``; the values of the activation's free parameters.

    >>> verify_options(activation="relu(x)", phi=1, psi=[2], n0=50)["psi"]
    2.0
    >>> verify_options(activation="tanh(a*x)", phi=1, psi=1, n0=50)
    Traceback (most recent call last):
    ...
    ValueError: 'tanh(a*x)' has free parameters a: give their values with --param a=VALUE
    """
    opts = normalise(VERIFY_OPTIONS, options)
    if opts["jacobian"]:
        if opts["depth"] is None or opts["sigma_w"] is None:
            raise ValueError("--jacobian needs --depth and --sigma-w")
    elif opts["phi"] is None or opts["psi"] is None:
        raise ValueError("--phi and --psi are required (unless --jacobian)")
    _check_activation(opts["activation"], tuple(opts["param"].items()))
    return opts


@functools.lru_cache(maxsize=256)
def _check_activation(expr, param):
    """Parse an activation once (a sweep checks thousands of cases with a few activations)."""
    _activation(SimpleNamespace(expr=expr, param=dict(param)))


#: options that are exact numbers in the model (as on the command line: ``0.1`` is 1/10)
_EXACT = {"phi": "positive", "sigma": "positive", "sigma_w": "positive", "sigma_x": "positive",
          "bias_sigma": "nonnegative", "sigma_b": "nonnegative", "q0": "nonnegative"}


def _exact(value, name, kind):
    """A canonical option number as the exact number the command line makes of its text: a float
    is read as the decimal it prints as (``0.1`` -> 1/10), a string as written."""
    from nrmt.theory.exact import exact_parameter

    if isinstance(value, float):
        value = repr(value)
    return exact_parameter(value, name, positive=kind == "positive",
                           nonnegative=kind == "nonnegative")


def _namespace(opts):
    """The options as the attributes ``nrmt verify``'s parser gives (exact numbers, ``expr``,
    ``psi`` a list, ``param`` pairs)."""
    ns = SimpleNamespace(**opts)
    ns.expr = opts["activation"]
    for name, kind in _EXACT.items():
        if opts[name] is not None:
            setattr(ns, name, _exact(opts[name], name, kind))
    psi = opts["psi"]
    if psi is not None:
        ns.psi = [_exact(v, "psi", "positive")
                  for v in (psi if isinstance(psi, (list, tuple)) else [psi])]
    return ns


def verify_run(progress=False, **options):
    """Run one verification; return a :class:`VerifyRun` (its ``result`` is :func:`verify_case`'s).

    Parameters
    ----------
    progress : bool
        Show the sampler's progress bar (a terminal).
    **options
        See :data:`VERIFY_OPTIONS`.
    """
    from nrmt.cli._common import decimal
    from nrmt.numerics.compare import compare

    args = _namespace(verify_options(**options))
    t0 = time.perf_counter()
    model = build_model(args)
    sizes = model_sizes(model, args)
    check_resources(model, args, sizes)
    law = model.law(dps=15)
    t1 = time.perf_counter()
    sample = _sample(model, args, progress)
    t_sampling = time.perf_counter() - t1
    cmp = compare(sample, law, moments=args.moments, trials=args.trials)
    # the theory's moments at the working precision, printed with the digits the law delivers
    # (rounded once; with a bias about 8 digits)
    digits = getattr(model, "digits", None)
    theory_dps = args.dps if digits is None or args.dps > 15 else min(args.dps, digits)
    theory_law = law if args.dps <= 15 else model.law(dps=args.dps)
    moments_theory = theory_law.moments_mp(args.moments) if args.moments else []
    seconds = time.perf_counter() - t0

    def sample_dec(v):
        return None if v is None else decimal(float(v), SAMPLE_DIGITS)

    result = {
        "ks": sample_dec(cmp.ks),
        "ks_scale": sample_dec(cmp.ks_scale),
        "ks_ratio": sample_dec(cmp.ks_ratio),
        "ks_split": sample_dec(cmp.ks_split),
        "w1": sample_dec(cmp.w1),
        "w1_scale": sample_dec(cmp.w1_scale),
        "moments_theory": [decimal(v, theory_dps) for v in moments_theory],
        "moments_sample": [sample_dec(v) for v in cmp.moments_sample],
        "moment_se": None if cmp.moment_se is None else [sample_dec(v) for v in cmp.moment_se],
        "atom_theory": decimal(law.atom_mp, min(15, theory_dps)),
        "atom_sample": sample_dec(cmp.atom_sample),
        "n0": int(sizes["n0"]),
        "n1": int(sizes["n1"]),
        "m": int(sizes["m"]),
        "widths": [int(w) for w in sizes.get("widths", [sizes["n0"], sizes["n1"]])],
        "trials": int(args.trials),
        "seed": args.seed,
        "entries": args.entries,
        "activation": args.expr,
        "model": _describe(model),
        "dps": args.dps,
        "seconds": round(seconds, 3),
        "seconds_sampling": round(t_sampling, 3),
        "plot": None,
    }
    return VerifyRun(result, sample, law, cmp, model)


def verify_case(**options):
    """The JSON-ready result of one verification (what ``nrmt verify --json`` prints).

    Keys: ``ks``, ``ks_scale``, ``ks_ratio``, ``ks_split``, ``w1``, ``w1_scale``,
    ``moments_theory``, ``moments_sample``, ``moment_se``, ``atom_theory``, ``atom_sample``
    (decimal strings), ``n0``, ``n1``, ``m``, ``widths``, ``trials``, ``seed``, ``entries``,
    ``activation``, ``model``, ``dps``, ``seconds``, ``seconds_sampling``, ``plot`` (null).
    The options are those of :data:`VERIFY_OPTIONS`; equal options and seed give equal results
    (``seconds`` aside).
    """
    return verify_run(**options).result


# ------------------------------------------------------------------ model
def _activation(args):
    from nrmt.cli._common import activation_from_args
    from nrmt.theory.activations import parse_expression

    param = dict(getattr(args, "param", None) or {})
    values = [(name, parse_expression(v) if isinstance(v, str) else v) for name, v in param.items()]
    return activation_from_args(args.expr, values)


def scales(args):
    """(sigma_w, sigma_x) from ``sigma`` / ``sigma_w`` / ``sigma_x`` (defaults 1)."""
    sw, sx, s = args.sigma_w, args.sigma_x, args.sigma
    if s is not None:
        if sw is not None and sx is not None:
            raise ValueError("give --sigma or --sigma-w/--sigma-x, not all three")
        if sw is not None:
            return sw, s / sw
        if sx is not None:
            return s / sx, sx
        return s, 1
    return (1 if sw is None else sw), (1 if sx is None else sx)


def build_model(args):
    """The model named by the options (add one branch per model here).

    ``args`` has the options, checked by :func:`verify_options`, as attributes (``expr`` the
    activation, ``psi`` a list). Returns an
    object with ``law(dps)``, ``sample(n0, entries, trials, rng[, progress])`` and
    ``describe()`` (the models of :mod:`nrmt.models`).
    """
    activation = _activation(args)
    if getattr(args, "jacobian", False):
        from nrmt.models.jacobian import Jacobian

        return Jacobian(activation, args.depth, args.sigma_w, sigma_b=args.sigma_b,
                        q0=args.q0, weights=args.weights)
    sigma_w, sigma_x = scales(args)
    psi = args.psi
    bias = getattr(args, "bias_sigma", 0.0) or 0.0
    if len(psi) == 1 and not bias:
        from nrmt.models.one_layer import OneLayer

        return OneLayer(activation, phi=args.phi, psi=psi[0], sigma_w=sigma_w, sigma_x=sigma_x)
    # several layers and/or a bias: same conventions as sample_gram
    if len(psi) == 1:
        from nrmt.models.bias import Bias

        return Bias(activation, args.phi, psi[0], bias, sigma_w=sigma_w, sigma_x=sigma_x)
    from nrmt.models.layers import Layers

    return Layers(activation, args.phi, list(psi), sigma_w=sigma_w, sigma_x=sigma_x, sigma_b=bias)


def model_sizes(model, args):
    """``{"n0", "n1", "m", "widths"}``: the matrix sizes sampled for ``n0``."""
    if hasattr(model, "sizes"):
        return dict(model.sizes(args.n0))
    from nrmt.numerics.sampling import widths_from_ratios

    widths, m = widths_from_ratios(args.n0, args.phi, args.psi)
    return {"n0": widths[0], "n1": widths[1] if len(widths) == 2 else widths[-1], "m": m,
            "widths": widths}


def check_resources(model, args, sizes):
    """Refuse (before any computation) a run whose sampled matrices do not fit in memory."""
    from nrmt.cli._common import check_memory
    from nrmt.numerics.sampling import sample_memory

    if getattr(args, "jacobian", False):
        n = int(sizes["n0"])
        # a few N x N float64 matrices (the product, the weights, the Gram) and the eigenvalues
        need = 4 * 8 * n * n + 8 * n * args.trials
    else:
        need = sample_memory(sizes.get("widths", [sizes["n0"], sizes["n1"]]), int(sizes["m"]),
                             args.trials)
    check_memory(need, f"sampling {args.trials} matrices of these sizes (n0 = {sizes['n0']}, "
                       f"n1 = {sizes['n1']}, m = {sizes['m']})")


def _sample(model, args, progress):
    kwargs = dict(entries=args.entries, trials=args.trials, rng=args.seed)
    try:
        accepts = "progress" in inspect.signature(model.sample).parameters
    except (TypeError, ValueError):
        accepts = False
    if accepts:
        kwargs["progress"] = progress
    return model.sample(args.n0, **kwargs)


def _describe(model):
    if not hasattr(model, "describe"):
        return None
    return _jsonable(model.describe())


def _jsonable(obj):
    import numbers

    from nrmt.cli._common import decimal

    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    if obj is None or isinstance(obj, (bool, str, int)):
        return obj
    if isinstance(obj, numbers.Number) or hasattr(obj, "__float__"):
        try:
            return decimal(obj, 15)
        except TypeError:
            return str(obj)
    return str(obj)
