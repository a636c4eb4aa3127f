"""Sweeps: grids of verification cases run as Dask tasks, one row a case, resumable.

A sweep is a TOML specification (:mod:`nrmt.sweep.spec`): a command (``verify``, ``jacobian``)
and a grid of its options. Its cases (the Cartesian product, each with a stable id) run as Dask
tasks (:mod:`nrmt.sweep.runner`) — on a local cluster of worker processes or on an existing
cluster — each calling the API (:func:`nrmt.verification.verify_case`), and every finished case is
written at once as a row of a CSV or Parquet file (:mod:`nrmt.sweep.writers`). A run that stops
is resumed by case id. :mod:`nrmt.sweep.report` fits the convergence rates of KS and W1 in n0;
:mod:`nrmt.sweep.tables` spreads the points of a high-precision table over the workers.

>>> from nrmt.sweep import parse_spec
>>> spec = parse_spec({"command": "verify", "grid": {"n0": [100, 200]},
...                    "fixed": {"activation": "tanh(x)", "phi": 0.5, "psi": 0.5, "seed": 1}})
>>> [c.options["n0"] for c in spec.cases()]
[100, 200]
"""

from nrmt.sweep.commands import COMMANDS, evaluate_case, make_row
from nrmt.sweep.report import fit_power_law, format_report, plot_report, report_json, sweep_report
from nrmt.sweep.runner import SweepResult, dask_client, run_sweep
from nrmt.sweep.spec import Case, Spec, SpecError, case_id, load_spec, parse_spec
from nrmt.sweep.writers import encode_cell, open_writer, read_rows

__all__ = ["COMMANDS", "evaluate_case", "make_row", "fit_power_law", "format_report",
           "plot_report", "report_json", "sweep_report", "SweepResult", "dask_client",
           "run_sweep", "Case", "Spec", "SpecError", "case_id", "load_spec", "parse_spec",
           "encode_cell", "open_writer", "read_rows"]
