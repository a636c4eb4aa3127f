"""Activations: the allow-list parser, the named activations and the :class:`Activation` object.

An activation is a real function :math:`f:\\mathbb R\\to\\mathbb R` applied entrywise. It can be given
as

* a text expression in ``x`` -- ``"tanh(x)"``, ``"max(x, 0)"``, ``"x**3 - 3*x"``,
  ``"leaky_relu(x, a)"`` -- parsed by :func:`parse_expression` with an allow-list (a walk over
  Python's :mod:`ast` that builds sympy objects directly; user text is never given to ``eval`` or
  ``sympify``);
* a sympy expression in :data:`X` (other symbols are free parameters);
* a Python callable (then only numeric constants are available);
* another :class:`Activation`.

Free parameters (identifiers such as ``a``, ``b``, ``alpha``, ``a1``) stay symbolic until they are
given values with :meth:`Activation.subs`.

Examples
--------
>>> f = Activation("leaky_relu(x, a)")
>>> f.expr
a*Min(0, x) + Max(0, x)
>>> f.parameters
(a,)
>>> f.kinks
(0,)
>>> g = f.subs(a=0.1)
>>> float(g.mp_function()(-2))
-0.2
"""

import ast
import builtins
import functools
import keyword
import math
import re

import mpmath
import sympy
from sympy import (
    Abs, DiracDelta, E, Heaviside, Integer, Max, Min, Piecewise, Rational, S, Symbol, erf, exp, log,
    pi, sign, sqrt,
)

from nrmt.theory.errors import ParseError

__all__ = [
    "X",
    "parse_expression",
    "Activation",
    "as_activation",
    "NAMED",
    "FUNCTIONS",
    "kinks_of",
    "branch_at",
]

#: The variable every activation expression uses.
X = Symbol("x", real=True)

#: Limits that keep parsing cheap (no ``9**9**9``-style denial of service).
MAX_LENGTH = 2000
MAX_NODES = 400
MAX_DEPTH = 40
MAX_EXPONENT = 256
MAX_INT_DIGITS = 60
MAX_NAME_LENGTH = 24

# SELU constants (Klambauer et al., "Self-normalizing neural networks", NeurIPS 2017, eq. (2)
# and the constants below their Theorem 1), kept as exact decimals.
SELU_LAMBDA = Rational("1.0507009873554804934193349852946")
SELU_ALPHA = Rational("1.6732632423543772848170429916717")


def _sigmoid(u):
    return 1 / (1 + exp(-u))


def _softplus(u):
    return log(1 + exp(u))


def _relu(u):
    return Max(u, 0)


def _hard_sigmoid(u):
    return Max(0, Min(1, u / 6 + S.Half))


# name -> (builder(args), min arity, max arity, default extra arguments, one-line description)
# Every builder takes sympy arguments and returns a sympy expression.
_FUNCTIONS = {
    # elementary and special functions (sympy's own)
    "exp": (lambda u: exp(u), 1, 1, "exponential"),
    "log": (lambda u: log(u), 1, 1, "natural logarithm"),
    "sqrt": (lambda u: sqrt(u), 1, 1, "square root"),
    "sin": (lambda u: sympy.sin(u), 1, 1, "sine"),
    "cos": (lambda u: sympy.cos(u), 1, 1, "cosine"),
    "tan": (lambda u: sympy.tan(u), 1, 1, "tangent"),
    "sinh": (lambda u: sympy.sinh(u), 1, 1, "hyperbolic sine"),
    "cosh": (lambda u: sympy.cosh(u), 1, 1, "hyperbolic cosine"),
    "tanh": (lambda u: sympy.tanh(u), 1, 1, "hyperbolic tangent"),
    "atan": (lambda u: sympy.atan(u), 1, 1, "arc tangent"),
    "arctan": (lambda u: sympy.atan(u), 1, 1, "arc tangent"),
    "asinh": (lambda u: sympy.asinh(u), 1, 1, "inverse hyperbolic sine"),
    "arcsinh": (lambda u: sympy.asinh(u), 1, 1, "inverse hyperbolic sine"),
    "erf": (lambda u: erf(u), 1, 1, "error function"),
    "erfc": (lambda u: sympy.erfc(u), 1, 1, "complementary error function"),
    "abs": (lambda u: Abs(u), 1, 1, "absolute value"),
    "Abs": (lambda u: Abs(u), 1, 1, "absolute value"),
    "sign": (lambda u: sign(u), 1, 1, "sign (0 at 0)"),
    "Heaviside": (lambda u: Heaviside(u), 1, 1, "unit step (1/2 at 0)"),
    "heaviside": (lambda u: Heaviside(u), 1, 1, "unit step (1/2 at 0)"),
    "step": (lambda u: Heaviside(u), 1, 1, "unit step (1/2 at 0)"),
    "max": (lambda *a: Max(*a), 2, 8, "maximum"),
    "Max": (lambda *a: Max(*a), 2, 8, "maximum"),
    "min": (lambda *a: Min(*a), 2, 8, "minimum"),
    "Min": (lambda *a: Min(*a), 2, 8, "minimum"),
    # activations of the field
    "linear": (lambda u: u, 1, 1, "identity x"),
    "identity": (lambda u: u, 1, 1, "identity x"),
    "relu": (_relu, 1, 1, "max(x, 0)"),
    "leaky_relu": (lambda u, a=Rational(1, 100): Max(u, 0) + a * Min(u, 0), 1, 2,
                   "max(x, 0) + a min(x, 0), slope a (default 1/100)"),
    "relu6": (lambda u: Min(Max(u, 0), 6), 1, 1, "min(max(x, 0), 6)"),
    "sigmoid": (_sigmoid, 1, 1, "1/(1 + exp(-x))"),
    "logistic": (_sigmoid, 1, 1, "1/(1 + exp(-x))"),
    "softplus": (_softplus, 1, 1, "log(1 + exp(x))"),
    "gelu": (lambda u: u * (1 + erf(u / sqrt(2))) / 2, 1, 1, "x Phi(x) = x (1 + erf(x/sqrt 2))/2"),
    "silu": (lambda u: u * _sigmoid(u), 1, 1, "x sigmoid(x)"),
    "swish": (lambda u, b=S.One: u * _sigmoid(b * u), 1, 2, "x sigmoid(b x) (default b = 1)"),
    "elu": (lambda u, a=S.One: Max(u, 0) + a * (exp(Min(u, 0)) - 1), 1, 2,
            "x for x > 0, a (exp(x) - 1) otherwise (default a = 1)"),
    "selu": (lambda u: SELU_LAMBDA * (Max(u, 0) + SELU_ALPHA * (exp(Min(u, 0)) - 1)), 1, 1,
             "lambda elu(x, alpha) with the SELU constants"),
    "celu": (lambda u, a=S.One: Max(u, 0) + a * (exp(Min(u, 0) / a) - 1), 1, 2,
             "max(x, 0) + a (exp(min(x, 0)/a) - 1)"),
    "hardtanh": (lambda u: Max(-1, Min(1, u)), 1, 1, "max(-1, min(1, x))"),
    "hard_tanh": (lambda u: Max(-1, Min(1, u)), 1, 1, "max(-1, min(1, x))"),
    "hard_sigmoid": (_hard_sigmoid, 1, 1, "max(0, min(1, x/6 + 1/2))"),
    "hardsigmoid": (_hard_sigmoid, 1, 1, "max(0, min(1, x/6 + 1/2))"),
    "hard_swish": (lambda u: u * _hard_sigmoid(u), 1, 1, "x hard_sigmoid(x)"),
    "hardswish": (lambda u: u * _hard_sigmoid(u), 1, 1, "x hard_sigmoid(x)"),
    "softsign": (lambda u: u / (1 + Abs(u)), 1, 1, "x/(1 + |x|)"),
    "mish": (lambda u: u * sympy.tanh(_softplus(u)), 1, 1, "x tanh(softplus(x))"),
    "Phi": (lambda u: (1 + erf(u / sqrt(2))) / 2, 1, 1, "standard normal CDF"),
    "ncdf": (lambda u: (1 + erf(u / sqrt(2))) / 2, 1, 1, "standard normal CDF"),
}

#: Allowed function names with their description (for error messages and docs).
FUNCTIONS = {name: spec[3] for name, spec in _FUNCTIONS.items()}

#: Activations usable as a bare name (``"relu"`` means ``relu(x)``).
NAMED = tuple(name for name, spec in _FUNCTIONS.items() if spec[1] == 1)

_CONSTANTS = {"pi": pi, "E": E}
_NAME_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
_FORBIDDEN_NAMES = set(dir(builtins)) | set(keyword.kwlist) | {"e", "I", "j", "oo", "nan", "inf"}


def _refuse(what):
    raise ParseError(f"refused {what}")


class _Builder:
    """The allow-list walk over a Python ``ast`` tree, building sympy objects."""

    def __init__(self, text):
        self.text = text
        self.nodes = 0

    def build(self, node, depth=0):
        self.nodes += 1
        if self.nodes > MAX_NODES:
            raise ParseError(f"expression too large (more than {MAX_NODES} syntax nodes)")
        if depth > MAX_DEPTH:
            raise ParseError(f"expression nested too deeply (more than {MAX_DEPTH} levels)")
        method = getattr(self, "_" + type(node).__name__, None)
        if method is None:
            raise ParseError(f"refused {_describe(node)}: only numbers, x, parameters, + - * / **, "
                             "and allowed function calls are accepted")
        return method(node, depth + 1)

    def _Expression(self, node, depth):
        return self.build(node.body, depth)

    def _Constant(self, node, depth):
        value = node.value
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            _refuse(f"the literal {value!r} (only real numbers are allowed)")
        if isinstance(value, int):
            if len(str(abs(value))) > MAX_INT_DIGITS:
                raise ParseError(f"integer literal too long (more than {MAX_INT_DIGITS} digits)")
            return Integer(value)
        if not math.isfinite(value):
            _refuse(f"the non-finite number {ast.get_source_segment(self.text, node) or value!r}")
        source = ast.get_source_segment(self.text, node) or repr(value)
        source = source.replace("_", "")
        try:
            return Rational(source)  # exact decimal: "0.1" -> 1/10
        except (TypeError, ValueError):  # pragma: no cover - ast already validated the literal
            return Rational(repr(value))

    def _Name(self, node, depth):
        name = node.id
        if name == "x":
            return X
        if name in _CONSTANTS:
            return _CONSTANTS[name]
        if name in _FUNCTIONS:
            builder, lo, _hi, _ = _FUNCTIONS[name]
            if lo == 1:
                return builder(X)
            _refuse(f"the bare name {name!r}: it is a function of {lo} or more arguments")
        return _parameter(name)

    def _UnaryOp(self, node, depth):
        operand = self.build(node.operand, depth)
        if isinstance(node.op, ast.USub):
            return -operand
        if isinstance(node.op, ast.UAdd):
            return operand
        _refuse(f"the operator {type(node.op).__name__}")

    def _BinOp(self, node, depth):
        op = node.op
        if isinstance(op, ast.BitXor):
            _refuse("'^' (use ** for powers)")
        if not isinstance(op, (ast.Add, ast.Sub, ast.Mult, ast.Div, ast.Pow)):
            _refuse(f"the operator {type(op).__name__}")
        left = self.build(node.left, depth)
        right = self.build(node.right, depth)
        if isinstance(op, ast.Add):
            return left + right
        if isinstance(op, ast.Sub):
            return left - right
        if isinstance(op, ast.Mult):
            return left * right
        if isinstance(op, ast.Div):
            if right == 0:
                raise ParseError("division by zero")
            return left / right
        return _power(left, right)

    def _Call(self, node, depth):
        if isinstance(node.func, ast.Attribute):
            _refuse(f"attribute access '.{node.func.attr}' (only allowed function names can be called)")
        if not isinstance(node.func, ast.Name):
            _refuse(f"the call of {_describe(node.func)} (only allowed function names can be called)")
        name = node.func.id
        if name not in _FUNCTIONS:
            _refuse(f"the unknown function {name!r}" + _suggest(name))
        if node.keywords:
            _refuse(f"keyword arguments in {name}(...) (pass arguments by position)")
        builder, lo, hi, _ = _FUNCTIONS[name]
        if not lo <= len(node.args) <= hi:
            arity = str(lo) if lo == hi else f"{lo} to {hi}"
            raise ParseError(f"{name} takes {arity} arguments, got {len(node.args)}")
        args = [self.build(arg, depth) for arg in node.args]
        return builder(*args)


def _describe(node):
    if isinstance(node, ast.Attribute):
        return f"attribute access '.{node.attr}'"
    kinds = {
        "Attribute": "attribute access", "Subscript": "subscripts", "Lambda": "lambda",
        "Compare": "comparisons", "BoolOp": "boolean operators", "IfExp": "conditional expressions",
        "List": "lists", "Tuple": "tuples", "Dict": "dicts", "Set": "sets",
        "ListComp": "comprehensions", "GeneratorExp": "generators", "JoinedStr": "f-strings",
        "Starred": "starred arguments", "NamedExpr": "assignment expressions", "Await": "await",
    }
    name = type(node).__name__
    return kinds.get(name, name)


def _suggest(name):
    close = [n for n in _FUNCTIONS if n.lower() == name.lower() or n.replace("_", "") == name.replace("_", "")]
    if close:
        return f" (did you mean {close[0]!r}?)"
    return f"; allowed: {', '.join(sorted(set(_FUNCTIONS), key=str.lower))}"


def _parameter(name):
    if name.startswith("_") or "__" in name:
        _refuse(f"the name {name!r} (names starting with '_' or containing '__' are not allowed)")
    if not _NAME_RE.match(name) or len(name) > MAX_NAME_LENGTH:
        _refuse(f"the name {name!r} (parameters are short ASCII identifiers like a, b, a1, alpha)")
    if name in _FORBIDDEN_NAMES:
        hint = " (use E for Euler's number)" if name == "e" else ""
        _refuse(f"the name {name!r} as a parameter{hint}")
    return Symbol(name, real=True)


def _power(base, exponent):
    if exponent.is_Number:
        if not exponent.is_Rational:
            raise ParseError("exponents must be exact numbers or expressions")
        if abs(exponent) > MAX_EXPONENT:
            raise ParseError(f"exponent {exponent} too large (|exponent| <= {MAX_EXPONENT})")
        if base.is_Number and base != 0 and abs(exponent) * math.log10(float(abs(base)) + 1) > 1000:
            raise ParseError(f"number {base}**{exponent} too large")
        if base.is_Number and not exponent.is_Integer and base < 0:
            raise ParseError(f"{base}**{exponent} is not real")
        if base == 0 and exponent < 0:
            raise ParseError("division by zero")
        return base ** exponent
    if base.is_Number and base.is_positive:
        # a**u with a numeric base: safe (no huge integer is formed)
        return base ** exponent
    if base.is_Number:
        raise ParseError(f"{base}**(...) with a non-positive base is not a real function")
    return base ** exponent


def _check_size(expr):
    for node in sympy.preorder_traversal(expr):
        if node.is_Pow and node.exp.is_Number and abs(node.exp) > MAX_EXPONENT:
            raise ParseError(f"exponent {node.exp} too large (|exponent| <= {MAX_EXPONENT})")
        if node.is_Integer and abs(node) > 10 ** (4 * MAX_INT_DIGITS):
            raise ParseError("number too large")


def parse_expression(text):
    """Parse an activation written as text into a sympy expression in :data:`X`.

    The text is read with :func:`ast.parse` and every node is checked against an allow-list:
    real number literals, the variable ``x``, free parameters (ASCII identifiers that are not
    function names and do not start with ``_``), ``pi`` and ``E``, the operators ``+ - * / **``
    and unary minus, and calls of the functions in :data:`FUNCTIONS` by position. Everything else
    -- attribute access, subscripts, lambdas, strings, keywords, comparisons, unknown functions --
    raises :class:`~nrmt.theory.errors.ParseError` naming what was refused. Nothing is evaluated
    by Python; decimal literals become exact rationals (``0.1`` is ``1/10``).

    Parameters
    ----------
    text : str
        The expression, e.g. ``"tanh(x)"``, ``"max(x, 0)"``, ``"relu"`` or ``"a*x + b*(x**2 - 1)"``.

    Returns
    -------
    sympy.Expr

    Raises
    ------
    ParseError
        If the text is not a valid expression or uses anything outside the allow-list, is longer
        than 2000 characters, nested deeper than 40 levels, or has an exponent larger than 256.

    Examples
    --------
    >>> parse_expression("x*erf(x/sqrt(2))")
    x*erf(sqrt(2)*x/2)
    >>> parse_expression("0.5*relu")
    Max(0, x)/2
    >>> parse_expression("__import__('os').system('ls')")
    Traceback (most recent call last):
    ...
    nrmt.theory.errors.ParseError: refused attribute access '.system' (only allowed function names can be called)
    """
    if not isinstance(text, str):
        raise TypeError(f"expected an expression as text, got {type(text).__name__}")
    if len(text) > MAX_LENGTH:
        raise ParseError(f"expression too long ({len(text)} characters, at most {MAX_LENGTH})")
    if not text.strip():
        raise ParseError("empty expression")
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError as exc:
        raise ParseError(f"invalid syntax in {text.strip()!r}: {exc.msg}") from None
    except (ValueError, RecursionError, MemoryError) as exc:
        raise ParseError(f"could not parse {text.strip()[:60]!r}: {type(exc).__name__}") from None
    builder = _Builder(text.strip())
    try:
        expr = builder.build(tree)
    except RecursionError:
        raise ParseError("expression nested too deeply") from None
    expr = sympy.sympify(expr)
    if expr.has(sympy.zoo, sympy.nan, sympy.oo, -sympy.oo):
        raise ParseError(f"expression {text.strip()!r} is not finite")
    _check_size(expr)
    return expr


# --------------------------------------------------------------------------- kinks

#: Kinks of periodic or transcendental conditions are searched for in [-KINK_RANGE, KINK_RANGE].
KINK_RANGE = 100
MAX_KINKS = 1000


def _real_roots(u):
    """Real solutions of u(x) = 0 -> (tuple of sympy numbers/expressions or None, complete).

    Exact solutions over the reals when sympy finds finitely many; otherwise (periodic or
    transcendental u) the solutions in [-KINK_RANGE, KINK_RANGE], exact or found numerically from
    sign changes on a fine grid, refined to 40 digits, with ``complete=False``.
    """
    u = sympy.sympify(u)
    if not u.has(X):
        return (), True
    try:
        sols = sympy.solveset(u, X, domain=sympy.S.Reals)
    except Exception:  # noqa: BLE001 - sympy may raise many things on hard equations
        sols = None
    if isinstance(sols, sympy.FiniteSet):
        return tuple(sols), True
    if sols is sympy.S.EmptySet:
        return (), True
    if u.free_symbols - {X}:
        return None, False
    try:
        sols = sympy.solveset(u, X, domain=sympy.Interval(-KINK_RANGE, KINK_RANGE))
    except Exception:  # noqa: BLE001
        sols = None
    if isinstance(sols, sympy.FiniteSet) and len(sols) <= MAX_KINKS and all(r.is_number for r in sols):
        return tuple(sols), False
    return _numeric_roots(u), False


def _numeric_roots(u):
    """Sign changes of u on a grid of step 1e-3 over [-KINK_RANGE, KINK_RANGE], refined by mpmath."""
    import numpy as np

    fn = sympy.lambdify(X, u, modules=["scipy", "numpy"])
    grid = np.linspace(-KINK_RANGE, KINK_RANGE, 200 * KINK_RANGE + 1)
    with np.errstate(all="ignore"):
        vals = np.asarray(fn(grid), dtype=complex)
    real = np.where(np.abs(vals.imag) <= 1e-12 * (1 + np.abs(vals.real)), vals.real, np.nan)
    sgn = np.sign(real)
    idx = np.nonzero(sgn[:-1] * sgn[1:] < 0)[0][:MAX_KINKS]
    exact_zero = np.nonzero(real == 0)[0][:MAX_KINKS]
    mp_u = sympy.lambdify(X, u, modules="mpmath")
    roots = [sympy.Float(repr(float(grid[i])), 40) for i in exact_zero]
    with mpmath.workdps(45):
        for i in idx:
            try:
                r = mpmath.findroot(mp_u, (mpmath.mpf(grid[i]), mpmath.mpf(grid[i + 1])), solver="anderson")
            except (ValueError, ZeroDivisionError):
                r = (mpmath.mpf(grid[i]) + mpmath.mpf(grid[i + 1])) / 2
            roots.append(sympy.Float(mpmath.nstr(mpmath.re(r), 40), 40))
    return tuple(roots)


def kinks_of(expr, status=False):
    """Points where ``expr`` (in :data:`X`) or its derivative may fail to be smooth.

    Collected from the arguments of ``Max``, ``Min`` (pairwise differences), ``Abs``, ``sign``,
    ``Heaviside``, ``DiracDelta``, the conditions of ``Piecewise``, and the zeros of the arguments of
    ``log``, fractional powers and denominators (singular points). Returns a sorted tuple of sympy
    numbers (symbolic points, e.g. with free parameters, come last in input order); with
    ``status=True``, ``(points, complete)`` where ``complete`` is False when some points could only
    be searched for in [-KINK_RANGE, KINK_RANGE] (periodic or transcendental conditions) or not
    at all (conditions with free parameters that sympy cannot solve).
    """
    points, complete = _kinks_cached(expr)
    return (points, complete) if status else points


@functools.lru_cache(maxsize=512)
def _kinks_cached(expr):
    points = []
    complete = True
    for node in sympy.preorder_traversal(expr):
        candidates = []
        if isinstance(node, (Max, Min)):
            args = node.args
            candidates = [a - b for i, a in enumerate(args) for b in args[i + 1:]]
        elif isinstance(node, (Abs, sign, Heaviside, DiracDelta)):
            candidates = [node.args[0]]
        elif isinstance(node, Piecewise):
            for _value, cond in node.args:
                for rel in cond.atoms(sympy.core.relational.Relational):
                    candidates.append(rel.lhs - rel.rhs)
        elif isinstance(node, sympy.log):
            candidates = [node.args[0]]
        elif node.is_Pow and node.exp.is_Number and (node.exp < 0 or not node.exp.is_Integer):
            candidates = [node.base]
        for c in candidates:
            if not c.has(X):
                continue
            roots, whole = _real_roots(c)
            complete = complete and whole
            if roots is not None:
                points.extend(roots)
    numeric = sorted({p for p in points if p.is_real and p.is_number}, key=lambda p: float(p))
    symbolic = []
    for p in points:
        if not (p.is_number) and p not in symbolic:
            symbolic.append(p)
    return tuple(numeric) + tuple(symbolic), complete


def branch_at(expr, point):
    """The smooth branch of ``expr`` valid around ``x = point`` (a numeric point that is not a kink).

    ``Max``/``Min``/``Abs``/``sign``/``Heaviside``/``Piecewise`` are replaced by the branch they take
    at ``point``. Raises ``ValueError`` when a branch cannot be decided (free parameters inside a
    condition, or a Dirac delta).

    >>> branch_at(Activation("hardtanh").expr, 3)
    1
    >>> branch_at(Activation("leaky_relu(x, a)").expr, -1)
    a*x
    """
    if not expr.args:
        return expr
    if not expr.has(Max, Min, Abs, sign, Heaviside, Piecewise, DiracDelta):
        return expr
    if isinstance(expr, DiracDelta):
        raise ValueError(f"cannot decide the branch of {expr} at x = {point}")
    if isinstance(expr, Piecewise):
        for value, cond in expr.args:
            truth = cond.subs(X, point)
            if truth not in (sympy.true, sympy.false):
                raise ValueError(f"cannot decide the branch of {expr} at x = {point}")
            if truth is sympy.true:
                return branch_at(value, point)
        raise ValueError(f"cannot decide the branch of {expr} at x = {point}")
    args = [branch_at(a, point) for a in expr.args]

    def at(u):
        val = u.subs(X, point)
        if not val.is_number:
            raise ValueError(f"cannot decide the branch of {expr} at x = {point}")
        val = sympy.nsimplify(val) if val.is_Float else val
        return val

    if isinstance(expr, (Max, Min)):
        vals = [at(a) for a in args]
        try:
            idx = vals.index(max(vals) if isinstance(expr, Max) else min(vals))
        except TypeError:
            raise ValueError(f"cannot decide the branch of {expr} at x = {point}") from None
        return args[idx]
    if isinstance(expr, (Abs, sign, Heaviside)):
        u = args[0]
        val = at(u)
        if val.is_positive:
            s = 1
        elif val.is_negative:
            s = -1
        elif val == 0:
            s = 0
        else:
            raise ValueError(f"cannot decide the branch of {expr} at x = {point}")
        if isinstance(expr, Abs):
            return s * u if s else u
        if isinstance(expr, sign):
            return sympy.Integer(s)
        return S.One if s > 0 else (S.Zero if s < 0 else S.Half)
    return expr.func(*args)



# --------------------------------------------------------------------------- Activation

class Activation:
    """An activation function f, symbolic when possible.

    Parameters
    ----------
    spec : str, sympy.Expr, Activation or callable
        Text (parsed by :func:`parse_expression`), a sympy expression in :data:`X`, another
        activation, or a Python callable ``f(x)`` (numeric constants only).
    **param_values
        Values for free parameters, e.g. ``Activation("leaky_relu(x, a)", a=0.1)``.

    Attributes
    ----------
    expr : sympy.Expr or None
        The expression in :data:`X` (``None`` for a callable).
    text : str
        A readable form (the input text, or ``str(expr)``, or the callable's name).
    parameters : tuple of sympy.Symbol
        Free symbols other than :data:`X`, sorted by name.

    Examples
    --------
    >>> Activation("relu").expr
    Max(0, x)
    >>> Activation("a*x + b*(x**2 - 1)", b=0).expr
    a*x
    >>> Activation("sign").derivative().expr
    2*DiracDelta(x)
    """

    def __init__(self, spec, **param_values):
        self._callable = None
        if isinstance(spec, Activation):
            self.expr = spec.expr
            self.text = spec.text
            self._callable = spec._callable
        elif isinstance(spec, str):
            self.expr = parse_expression(spec)
            self.text = spec.strip()
        elif isinstance(spec, sympy.Basic):
            expr = sympy.sympify(spec)
            if not isinstance(expr, sympy.Expr):
                raise TypeError(f"expected a sympy expression, got {type(spec).__name__}")
            # accept a plain Symbol('x') too: rename it to the real X
            plain = [s for s in expr.free_symbols if s.name == "x" and s != X]
            expr = expr.xreplace({s: X for s in plain})
            if expr.has(sympy.I):
                raise ValueError(f"activation must be real-valued, got {expr}")
            self.expr = expr
            self.text = str(expr)
        elif isinstance(spec, (int, float, Rational)) and not isinstance(spec, bool):
            raise TypeError(f"expected an activation (text, sympy expression or callable), got the number {spec!r}")
        elif callable(spec):
            self.expr = None
            self._callable = spec
            self.text = getattr(spec, "__name__", None) or repr(spec)
        else:
            raise TypeError(f"expected an activation (text, sympy expression or callable), got {type(spec).__name__}")
        if param_values:
            sub = self.subs(**param_values)
            self.expr, self.text = sub.expr, sub.text
        self._kinks = None

    # ---------------------------------------------------------------- properties
    @property
    def is_symbolic(self):
        """True when the activation has a sympy expression."""
        return self.expr is not None

    @property
    def parameters(self):
        """Free parameters (sympy Symbols other than :data:`X`), sorted by name."""
        if self.expr is None:
            return ()
        return tuple(sorted((s for s in self.expr.free_symbols if s != X), key=lambda s: s.name))

    @property
    def kinks(self):
        """Real points where f or f' is not smooth (from Max/Min/Abs/sign/Heaviside/Piecewise).

        Used to split quadratures. Points depending on free parameters are listed after the
        numeric ones. A callable has no known kinks (empty tuple).
        """
        if self.expr is None:
            return ()
        if self._kinks is None:
            self._kinks = kinks_of(self.expr)
        return self._kinks

    @property
    def kinks_complete(self):
        """False when some kinks could only be searched for in [-KINK_RANGE, KINK_RANGE]
        (periodic or transcendental conditions such as ``max(sin(x), 0)``): closed forms are then
        not attempted."""
        if self.expr is None:
            return False
        return kinks_of(self.expr, status=True)[1]

    @property
    def has_delta(self):
        """True when the expression contains a Dirac delta (a derivative of a jump)."""
        return self.expr is not None and self.expr.has(DiracDelta)

    # ---------------------------------------------------------------- operations
    def subs(self, **values):
        """A new activation with free parameters replaced by values (numbers or expressions).

        Floats are converted exactly from their shortest decimal form (``0.1`` -> ``1/10``).
        Unknown parameter names raise ``ValueError``.
        """
        if self.expr is None:
            raise TypeError("a callable activation has no parameters to substitute")
        known = {s.name: s for s in self.parameters}
        mapping = {}
        for name, value in values.items():
            if name not in known:
                have = ", ".join(known) or "none"
                raise ValueError(f"unknown parameter {name!r} (the activation's parameters: {have})")
            mapping[known[name]] = to_sympy_number(value, what=f"parameter {name}")
        new = Activation(self.expr.xreplace(mapping))
        if values:
            new.text = f"{self.text} with " + ", ".join(f"{k}={v}" for k, v in values.items())
        else:
            new.text = self.text
        return new

    def derivative(self):
        """The weak derivative f' as an :class:`Activation`.

        ``Max(x, 0)' = Heaviside(x)`` (value 1/2 at the kink, irrelevant under a Gaussian); jumps
        give Dirac deltas (``sign' = 2 DiracDelta(x)``), including jumps of ``Piecewise`` branches.
        """
        if self.expr is None:
            raise TypeError("a callable activation has no symbolic derivative")
        d = sympy.diff(self.expr, X)
        if self.expr.has(Piecewise):
            numeric = [k for k in self.kinks if k.is_number]
            edges = [numeric[0] - 2] + numeric + [numeric[-1] + 2] if numeric else []
            for i, k in enumerate(numeric):
                left = branch_at(self.expr, (edges[i] + k) / 2)
                right = branch_at(self.expr, (k + edges[i + 2]) / 2)
                jump = sympy.simplify(right.subs(X, k) - left.subs(X, k))
                if jump != 0:
                    d = d + jump * DiracDelta(X - k)
        out = Activation(d)
        out.text = f"d/dx[{self.text}]"
        return out

    def mp_function(self, dps=None):
        """An mpmath-callable f(x).

        With ``dps=None`` the function evaluates at the caller's working precision (use inside
        ``mpmath.workdps``); with ``dps`` given it evaluates at that many digits.
        Free parameters must have been substituted.
        """
        if self.expr is None:
            fn = _mp_callable(self._callable)
        else:
            self._require_numeric()
            if self.has_delta:
                raise ValueError(f"{self.text} contains a Dirac delta and cannot be evaluated pointwise")
            fn = _lambdify_mp(self.expr)
        if dps is None:
            return fn

        def at_dps(x):
            with mpmath.workdps(dps):
                return +fn(mpmath.mpmathify(x))

        return at_dps

    def numpy_function(self):
        """A vectorised float64 function ``f(ndarray) -> ndarray`` (for samplers)."""
        import numpy as np

        if self.expr is None:
            fn = self._callable

            def vectorised(x):
                x = np.asarray(x, dtype=float)
                try:
                    out = np.asarray(fn(x), dtype=float)
                    if out.shape == x.shape:
                        return out
                except Exception:  # noqa: BLE001 - a scalar-only callable: fall back to a loop
                    pass
                return np.vectorize(lambda t: float(fn(t)), otypes=[float])(x)

            return vectorised
        self._require_numeric()
        if self.has_delta:
            raise ValueError(f"{self.text} contains a Dirac delta and cannot be evaluated pointwise")
        cached = self.__dict__.get("_numpy_fn")
        if cached is not None:        # lambdify once per activation (a length map calls it often)
            return cached
        raw = sympy.lambdify(X, self.expr, modules=["scipy", "numpy"])

        def fn(x):
            x = np.asarray(x, dtype=float)
            with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
                out = raw(x)
            return np.broadcast_to(np.asarray(out, dtype=float), x.shape).copy() if np.ndim(out) == 0 else np.asarray(out, dtype=float)

        self._numpy_fn = fn
        return fn

    def _require_numeric(self):
        if self.parameters:
            names = ", ".join(s.name for s in self.parameters)
            raise ValueError(f"activation {self.text!r} has free parameters ({names}); give them values "
                             "first (Activation.subs, or --param NAME=VALUE on the command line)")

    def __call__(self, x):
        return self.mp_function()(mpmath.mpmathify(x))

    def __repr__(self):
        return f"Activation({self.text!r})"

    def __eq__(self, other):
        if not isinstance(other, Activation):
            return NotImplemented
        if self.expr is None or other.expr is None:
            return self._callable is other._callable and self.expr is other.expr
        return self.expr == other.expr

    def __hash__(self):
        return hash(self.expr) if self.expr is not None else hash(id(self._callable))


def _mp_callable(f):
    """A user callable made safe for mpmath arguments: tried with the mpf itself first; callables
    that refuse mpf (numpy ufuncs, math functions) get a Python float (15 digits at most)."""
    state = {}

    def call(x):
        if state.get("float"):
            return f(float(x))
        try:
            return f(x)
        except TypeError:
            state["float"] = True
            return f(float(x))

    return call


#: |argument| beyond which exp is not evaluated: e^(2^64) has an exponent of ~10^19 digits, far past
#: any integrable growth, and mpmath would compute log 2 to that many bits first (a hang, e.g. for
#: exp(exp(exp(x))) in the integrability test)
_EXP_LIMIT = mpmath.mpf(2) ** 64


def _exp_guarded(u):
    """mpmath.exp for the pointwise evaluation of activations: +inf beyond e^(2^64) and 0 below
    e^(-2^64) (below any working precision's absolute resolution), instead of a hang."""
    if isinstance(u, mpmath.mpf) and abs(u) > _EXP_LIMIT:
        return mpmath.inf if u > 0 else mpmath.mpf(0)
    return mpmath.exp(u)


def _lambdify_mp(expr):
    return sympy.lambdify(X, expr, modules=[{"exp": _exp_guarded}, "mpmath"])


def as_activation(spec, **param_values):
    """``spec`` as an :class:`Activation` (returned unchanged when it already is one)."""
    if isinstance(spec, Activation) and not param_values:
        return spec
    return Activation(spec, **param_values)


def to_sympy_number(value, what="value"):
    """Convert a number to an exact sympy number: ints, floats (shortest decimal), mpf (exact
    binary), decimal strings (``"0.1"`` -> 1/10) and sympy expressions."""
    if isinstance(value, bool):
        raise TypeError(f"{what} must be a number, got {value!r}")
    if isinstance(value, sympy.Basic):
        return value
    if isinstance(value, int):
        return Integer(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"{what} must be finite, got {value!r}")
        return Rational(repr(value))
    if isinstance(value, mpmath.mpf):
        if not mpmath.isfinite(value):
            raise ValueError(f"{what} must be finite, got {value!r}")
        sign, man, exp_, _ = value._mpf_  # (man_exp drops the sign)
        man = -int(man) if sign else int(man)
        return Integer(man) * Integer(2) ** exp_ if exp_ >= 0 else Rational(man, 2 ** (-exp_))
    if isinstance(value, str):
        return parse_expression(value)
    try:
        import numpy as np

        if isinstance(value, np.integer):
            return Integer(int(value))
        if isinstance(value, np.floating):
            return to_sympy_number(float(value), what)
    except ImportError:  # pragma: no cover
        pass
    raise TypeError(f"{what} must be a number, got {type(value).__name__}")
