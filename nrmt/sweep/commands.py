"""The commands a sweep can run, and one case of them as a function (the body of a Dask task).

============  ====================================================  ===========================
command       one case                                              options
============  ====================================================  ===========================
``verify``    :func:`nrmt.verification.verify_case`                 ``nrmt verify``'s
``jacobian``  the same with ``jacobian = true`` (Monte Carlo check  ``nrmt verify --jacobian``'s
              of a deep network's Jacobian spectrum)
``table``     :func:`nrmt.sweep.tables.table_case` (``nrmt table    ``activation``, ``phi``,
              --format json``: support, atom, θ1, θ2, x, density,   ``psi``, ``sigma``, ``dps``,
              cdf)                                                  ``points``
============  ====================================================  ===========================

A row of a sweep is ``case`` (the case id), ``command``, every option under its command-line name
(``activation``, ``phi``, ``psi``, ``n0``, ``bias-sigma``, …; the defaults filled in), then the
command's JSON result keys (``ks``, ``ks_scale``, ``w1``, …, ``seconds``). A result key that is also
an option (``n0``, ``seed``, ``entries``, ``activation``, ``trials``, ``dps``) appears once.
"""

from dataclasses import dataclass, field

__all__ = ["Command", "COMMANDS", "evaluate_case", "make_row", "option_column"]


@dataclass(frozen=True)
class Command:
    """A sweepable command: its option schema (``name -> Option``), the options it fixes, and the
    dotted names of its check (options -> canonical options) and of its case function."""

    name: str
    schema_ref: str
    check_ref: str
    run_ref: str
    forced: dict = field(default_factory=dict)

    def _load(self, ref):
        import importlib

        module, _, attr = ref.partition(":")
        return getattr(importlib.import_module(module), attr)

    @property
    def schema(self):
        """``name -> Option`` of the options a spec may set (the forced ones excluded)."""
        return {k: v for k, v in self._load(self.schema_ref).items() if k not in self.forced}

    def check(self, options):
        """Canonical options of one case (defaults filled); ``ValueError``/``TypeError`` if bad."""
        return self._load(self.check_ref)(**{**options, **self.forced})

    def run(self, options):
        """The JSON-ready result of one case."""
        return self._load(self.run_ref)(**options)


#: name -> Command
COMMANDS = {
    "verify": Command("verify", "nrmt.verification:VERIFY_OPTIONS",
                      "nrmt.verification:verify_options", "nrmt.verification:verify_case"),
    "jacobian": Command("jacobian", "nrmt.verification:VERIFY_OPTIONS",
                        "nrmt.verification:verify_options", "nrmt.verification:verify_case",
                        forced={"jacobian": True}),
    "table": Command("table", "nrmt.sweep.tables:TABLE_OPTIONS", "nrmt.sweep.tables:table_options",
                     "nrmt.sweep.tables:table_case"),
}


def option_column(name):
    """The column (command-line) name of an option: ``bias_sigma`` -> ``bias-sigma``."""
    return name.replace("_", "-")


def evaluate_case(command, options):
    """Run one case of ``command`` with canonical ``options``; return its JSON-ready result.

    This is what a sweep submits to Dask, one task a case: it calls the API in the worker
    process, never the command line.
    """
    return COMMANDS[command].run(options)


def make_row(case, result):
    """A row: ``case``, ``command``, the options (command-line names), then the result keys.

    A result key equal to an option's column with the same value is not repeated; one with a
    different value (an option the command rounds, say) is kept as ``result.KEY``.
    """
    row = {"case": case.id, "command": case.command}
    for name, value in case.options.items():
        row[option_column(name)] = value
    for key, value in result.items():
        if key in row:
            if row[key] != value:
                row[f"result.{key}"] = value
            continue
        row[key] = value
    return row
