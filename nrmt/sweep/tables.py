"""High-precision tables on Dask: the integrals of a table's CDF spread over the workers.

A table's time goes into its CDF: one integral of the density per point (``dps <= 15``) or per
gap between neighbouring points (the sweep of :meth:`nrmt.numerics.law.Law.cdf` at higher
precision); the density itself costs little. :func:`dask_integrals` hands
:meth:`~nrmt.numerics.law.Law.cdf` an ``integrals`` function that cuts the list of intervals
into chunks, one Dask task a chunk. Each worker builds the law once from its *recipe* (the
model and ``dps``, e.g. ``("one-layer", expr, phi, psi, sigma, dps)``) and computes
:meth:`~nrmt.numerics.law.Law.integrals` of its chunk; the values come back in order and the law
adds them up exactly as without workers — the file is the same byte for byte.

>>> with dask_integrals(("one-layer", "tanh(x)", 1, 1, 1, 15)) as integrals:
...     integrals is None            # no --workers, no --scheduler: the law integrates itself
True
"""

from contextlib import contextmanager

from nrmt.options import Option, normalise

__all__ = ["dask_integrals", "law_from_recipe", "RECIPES", "TABLE_OPTIONS", "table_options",
           "table_case"]

#: the options of one ``nrmt table`` case (a sweep with ``command = "table"``)
TABLE_OPTIONS = {
    "activation": Option("text", help="the activation EXPR"),
    "phi": Option("positive"),
    "psi": Option("positive"),
    "sigma": Option("positive", 1.0),
    "dps": Option("int_range", 15, (1, 1000)),
    "points": Option("positive_int", 240),
}


def table_options(**options):
    """Check and normalise the options of one table (defaults filled); the activation is parsed.

    >>> table_options(activation="tanh(x)", phi=1, psi="1/2")["psi"]
    '1/2'
    """
    from nrmt.cli._common import activation_from_args

    opts = normalise(TABLE_OPTIONS, options)
    activation_from_args(opts["activation"])
    return opts


def table_case(**options):
    """The table of one case: what ``nrmt table --format json`` prints for the same options (numbers
    read as the decimals they print as, like the command line's text)."""
    from nrmt.cli.table import build_table
    from nrmt.theory.exact import exact_parameter

    opts = table_options(**options)

    def exact(name):
        value = opts[name]
        return exact_parameter(repr(value) if isinstance(value, float) else value, name,
                               positive=True)

    return build_table(opts["activation"], exact("phi"), exact("psi"), exact("sigma"),
                       opts["dps"], opts["points"])


def _one_layer(expr, phi, psi, sigma, dps):
    from nrmt.models.one_layer import OneLayer

    return OneLayer(expr, phi, psi, sigma).law(dps=dps)


#: recipe kind -> function(*arguments) building the law
RECIPES = {"one-layer": _one_layer}

#: laws built in this process, by recipe (a worker builds each law once)
_LAWS = {}


def law_from_recipe(recipe):
    """The law of ``recipe = (kind, *arguments)`` (see :data:`RECIPES`), built once a process."""
    if recipe not in _LAWS:
        kind, *arguments = recipe
        _LAWS[recipe] = RECIPES[kind](*arguments)
    return _LAWS[recipe]


def _integrals_task(recipe, pairs):
    return law_from_recipe(recipe).integrals(pairs)


@contextmanager
def dask_integrals(recipe, workers=None, scheduler=None, chunks_per_worker=4):
    """A context giving the ``integrals`` function for :meth:`~nrmt.numerics.law.Law.cdf`,
    computed on Dask (``None`` when neither ``workers`` nor ``scheduler`` is given).

    Parameters
    ----------
    recipe : tuple
        ``(kind, *arguments)`` that builds the same law in every worker (:data:`RECIPES`).
    workers : int, optional
        Local cluster of this many single-threaded worker processes.
    scheduler : str, optional
        Address of a running Dask scheduler.
    chunks_per_worker : int
        Tasks per worker (small chunks balance intervals of unequal cost).
    """
    if workers is None and scheduler is None:
        yield None
        return
    from nrmt.sweep.runner import dask_client

    client, cluster = dask_client(workers, scheduler)
    try:
        def integrals(pairs):
            if not pairs:
                return []
            n = max(1, len(client.scheduler_info().get("workers", {})))
            k = min(len(pairs), n * chunks_per_worker)
            # interleaved chunks: neighbouring intervals (of similar cost) go to different tasks
            futures = [client.submit(_integrals_task, recipe, pairs[j::k], pure=False)
                       for j in range(k)]
            parts = client.gather(futures)
            out = [None] * len(pairs)
            for j, part in enumerate(parts):
                out[j::k] = part
            return out

        yield integrals
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
