"""A sweep specification (TOML): the command, the grid of options, and the cases it makes.

::

    command = "verify"            # or "jacobian" (Monte Carlo Jacobian checks), "table"

    [grid]                        # a list of values per option: the cases are the Cartesian product
    activation = ["tanh(x)", "relu(x) - 1/sqrt(2*pi)"]
    n0 = [100, 200, 400, 800]
    seed = [1, 2, 3]

    [fixed]                       # single values
    phi = 0.5
    psi = 0.5
    trials = 2

Options are spelt as on the command line (``bias-sigma``, ``sigma-w``; ``bias_sigma`` is accepted
too); ``activation`` is the EXPR. A list-valued option (``psi`` of several layers) is a list in
``[fixed]`` and a list of lists in ``[grid]``; ``param`` (values of an activation's free
parameters) is a table, ``param = {a = 0.5}``.

Every case is checked before anything runs (:func:`parse_spec`): an unknown command or option, an
empty grid, a value of the wrong type or range, a missing required option and an activation that
does not parse all raise :class:`SpecError` with one line.

Each case has an id (:func:`case_id`): the first 16 hex digits of the SHA-256 of the canonical
JSON of the command and its normalised options (defaults filled, ``phi = 1`` and ``phi = 1.0``
alike), so the same case has the same id in any spec, on any machine.

>>> spec = parse_spec({"command": "verify",
...                    "grid": {"n0": [100, 200], "seed": [1, 2]},
...                    "fixed": {"activation": "tanh(x)", "phi": 0.5, "psi": 0.5}})
>>> cases = spec.cases()
>>> len(cases), cases[0].options["n0"], cases[0].options["seed"], len(cases[0].id)
(4, 100, 1, 16)
>>> cases[0].id == parse_spec({"command": "verify", "grid": {"seed": [1]},
...     "fixed": {"activation": "tanh(x)", "phi": 0.5, "psi": [0.5], "n0": 100}}).cases()[0].id
True
"""

import hashlib
import itertools
import json
from dataclasses import dataclass

from nrmt.options import KINDS
from nrmt.sweep.commands import COMMANDS

__all__ = ["Spec", "Case", "SpecError", "load_spec", "parse_spec", "case_id"]


class SpecError(ValueError):
    """A sweep specification that cannot run (one line: where, what was expected, what came)."""


@dataclass(frozen=True)
class Case:
    """One case of a sweep: its ``id``, the ``command`` and its canonical ``options``."""

    id: str
    command: str
    options: dict


def case_id(command, options):
    """The stable id of a case: 16 hex digits of the SHA-256 of its canonical JSON.

    >>> case_id("verify", {"n0": 100, "seed": 1}) == case_id("verify", {"seed": 1, "n0": 100})
    True
    """
    text = json.dumps({"command": command, "options": options}, sort_keys=True,
                      separators=(",", ":"), ensure_ascii=True, allow_nan=False)
    return hashlib.sha256(text.encode("ascii")).hexdigest()[:16]


@dataclass
class Spec:
    """A parsed specification: ``command``, ``grid`` (option -> list of values, in the order
    given) and ``fixed`` (option -> value); option names are the API's (``bias_sigma``)."""

    command: str
    grid: dict
    fixed: dict

    def cases(self):
        """The Cartesian product of the grid, each case checked and normalised.

        Returns
        -------
        list of Case
            In the order of the grid (the last option varies fastest); a case that appears twice
            (equal after normalisation) is listed once.

        Raises
        ------
        SpecError
            A case the command rejects (a missing required option, an activation with free
            parameters and no values, ...).
        """
        command = COMMANDS[self.command]
        names = list(self.grid)
        out, seen = [], set()
        for values in itertools.product(*(self.grid[n] for n in names)):
            given = {**self.fixed, **dict(zip(names, values))}
            try:
                options = command.check(given)
            except (ValueError, TypeError) as exc:
                where = ", ".join(f"{_column(n)}={v!r}" for n, v in zip(names, values))
                raise SpecError(f"case {where}: {_first_line(exc)}") from None
            cid = case_id(self.command, options)
            if cid not in seen:
                seen.add(cid)
                out.append(Case(cid, self.command, options))
        return out


def _column(name):
    return name.replace("_", "-")


def _first_line(exc):
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def load_spec(path):
    """Read and check a TOML specification file; return a :class:`Spec` (see :func:`parse_spec`)."""
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        import tomli as tomllib

    try:
        with open(path, "rb") as fh:
            data = tomllib.load(fh)
    except FileNotFoundError:
        raise SpecError(f"{path}: no such file") from None
    except tomllib.TOMLDecodeError as exc:
        raise SpecError(f"{path}: not valid TOML ({_first_line(exc)})") from None
    try:
        return parse_spec(data)
    except SpecError as exc:
        raise SpecError(f"{path}: {exc}") from None


def parse_spec(data):
    """Check a specification (the dict of its TOML) and return a :class:`Spec`.

    Every value is checked against the command's options here; :meth:`Spec.cases` then checks
    the combinations.

    Raises
    ------
    SpecError
        Unknown top-level key or command, unknown option, ``[grid]`` missing or empty, a grid entry
        that is not a non-empty list, an option both in ``[grid]`` and ``[fixed]``, a value of the
        wrong type or range.
    """
    if not isinstance(data, dict):
        raise SpecError("a specification is a TOML table")
    extra = sorted(set(data) - {"command", "grid", "fixed"})
    if extra:
        raise SpecError(f"unknown key {extra[0]!r} (a specification has command, [grid], [fixed])")
    command = data.get("command")
    if command is None:
        raise SpecError(f"no command: give command = one of {', '.join(map(repr, COMMANDS))}")
    if command not in COMMANDS:
        raise SpecError(f"unknown command {command!r} (known: {', '.join(COMMANDS)})")
    schema = COMMANDS[command].schema
    grid_raw, fixed_raw = data.get("grid"), data.get("fixed", {})
    if not isinstance(fixed_raw, dict):
        raise SpecError("[fixed] must be a table of option = value")
    if grid_raw is None or (isinstance(grid_raw, dict) and not grid_raw):
        raise SpecError("empty grid: give [grid] with at least one option = [values]")
    if not isinstance(grid_raw, dict):
        raise SpecError("[grid] must be a table of option = [values]")
    grid = {}
    for key, values in grid_raw.items():
        name = _option(key, schema, command, "grid")
        if not isinstance(values, list):
            raise SpecError(f"[grid] {key}: expected a list of values, got {values!r}")
        if not values:
            raise SpecError(f"[grid] {key}: empty list (no case to run)")
        grid[name] = [_checked(schema, name, v, f"[grid] {key}") for v in values]
    fixed = {}
    for key, value in fixed_raw.items():
        name = _option(key, schema, command, "fixed")
        if name in grid:
            raise SpecError(f"{key} is both in [grid] and in [fixed]")
        fixed[name] = _checked(schema, name, value, f"[fixed] {key}")
    return Spec(command, grid, fixed)


def _option(key, schema, command, table):
    name = key.replace("-", "_")
    if name not in schema:
        known = ", ".join(_column(n) for n in schema)
        raise SpecError(f"[{table}] unknown option {key!r} for {command} (known: {known})")
    return name


def _checked(schema, name, value, where):
    opt = schema[name]
    try:
        return KINDS[opt.kind](_column(name), value, opt)
    except (ValueError, TypeError) as exc:
        raise SpecError(f"{where}: {_first_line(exc)}") from None
