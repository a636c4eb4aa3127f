r"""Derived equations as a person would write them: collected, factored, typeset.

The derivations of :mod:`nrmt.theory.equations` return sympy objects in whatever order elimination
left them (``-z**2/(64*pi) + z**2/192 + sqrt(3)*z**2/(96*pi)``). :class:`Equation` rewrites a
polynomial equation :math:`P(G, z) = 0` the way it is written in a paper:

* denominators cleared and the numeric content divided out (``P`` and ``cP`` are the same
  equation for a number ``c != 0``), the sign fixed so that the leading coefficient is positive;
* collected in descending powers of G, each coefficient in descending powers of z;
* the common factor of a coefficient taken out (``-φθ₂ z (ψ z + 2(θ₁ - θ₂)(φ - ψ))``), every
  constant simplified (``together``, ``radsimp``, ``factor``);
* printed as sympy text that parses back to the same polynomial (:meth:`Equation.sympy`), as
  readable plain text (:meth:`Equation.text`: ``^``, Greek letters) and as LaTeX
  (:meth:`Equation.latex`, also shown by notebooks through ``_repr_latex_``).

:class:`DerivedEquation` (made by :func:`one_layer_equation`, :func:`one_layer_from_activation`
and :mod:`nrmt.models.equations` for the deep models) holds an equation with its constants,
coefficients, discriminant, exact moments and atom: what ``nrmt equation`` prints. The notebook
helpers (:func:`model_latex`, :func:`law_latex`, :func:`law_repr`) give models and laws their
``_repr_latex_`` and ``repr``.

Only presentation happens here: the equations themselves come from
:mod:`nrmt.theory.equations.one_layer` (Pennington & Worah 2017, Theorem 1) and the other
derivation modules.

Examples
--------
>>> import sympy as sp
>>> G, z = sp.symbols("G z")
>>> eq = Equation(sp.expand((z / 2 - sp.Rational(3, 4)) * G**2 - G / 3 + 1))
>>> eq.sympy()
'3*(2*z - 3)*G**2 - 4*G + 12'
>>> eq.text()
'3 (2 z − 3) G² − 4 G + 12'
>>> print(eq.latex())
3 \left(2 z - 3\right) G^{2} - 4 G + 12
"""

import re

import sympy as sp
from sympy.printing.latex import LatexPrinter
from sympy.printing.str import StrPrinter

__all__ = [
    "Equation", "DerivedEquation", "one_layer_equation", "one_layer_from_activation",
    "tidy", "parse_own", "text", "latex", "sympy_text", "GREEK", "CONVENTION", "ONE_LAYER_SOURCE",
    "short", "parameters_latex", "activation_latex", "law_latex", "law_repr", "model_latex",
]

#: plain-text names of the symbols nrmt uses (:meth:`Equation.text`)
GREEK = {
    "mean": "μ", "phi": "φ", "psi": "ψ", "theta1": "θ₁", "theta2": "θ₂", "sigma": "σ", "eta": "η",
    "zeta": "ζ", "beta": "β", "gamma": "γ", "chi": "χ", "sigma_w": "σ_w", "sigma_b": "σ_b",
    "sigma_x": "σ_x", "sigma_w2": "σ_w²", "mu": "μ", "tau": "τ", "alpha": "α", "delta": "δ",
}
_SUPER = str.maketrans("0123456789-", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻")


def _degree(term, name):
    return max([int(e) for b, e in (f.as_base_exp() for f in sp.Mul.make_args(term))
                if isinstance(b, sp.Symbol) and b.name == name and e.is_Integer] + [0])


def _ordered(terms):
    """Terms of a sum in reading order: descending powers of the equation's variables (G, w, z),
    then positive terms before negative ones and plain numbers last (``π − 2``, not ``−2 + π``)."""
    def key(t):
        return (-_degree(t, "G"), -_degree(t, "w"), -_degree(t, "z"), t.could_extract_minus_sign(),
                bool(t.is_Rational))
    return sorted(terms, key=key)


class _SympyPrinter(StrPrinter):
    """sympy's str printer (parsable) with sums in reading order."""

    def _as_ordered_terms(self, expr, order=None):
        return _ordered(super()._as_ordered_terms(expr, order=order))


class _LatexPrinter(LatexPrinter):
    """sympy's LaTeX printer with sums in reading order."""

    def _as_ordered_terms(self, expr, order=None):
        return _ordered(super()._as_ordered_terms(expr, order=order))


class _TextPrinter(_SympyPrinter):
    """The str printer with ``^`` powers (superscripts for integers), Greek letters, ``√``."""

    def _print_Symbol(self, expr):
        head, sep, rest = expr.name.partition("_")
        if expr.name in GREEK or not sep:
            return GREEK.get(expr.name, expr.name)
        return GREEK.get(head, head) + "_" + rest

    def _print_Pi(self, expr):
        return "π"

    def _print_Exp1(self, expr):
        return "e"

    def _print_Pow(self, expr, rational=False):
        b, e = expr.as_base_exp()
        if e == sp.Rational(1, 2):
            inner = self._print(b)
            return f"√{inner}" if b.is_Atom else f"√({inner})"
        if e.is_Number and e < 0:
            inv = b ** (-e)
            body = self._print(inv)
            return f"1/{body}" if inv.is_Atom or inv.is_Pow else f"1/({body})"
        base = self._print(b) if b.is_Atom and not (b.is_Number and b < 0) else f"({self._print(b)})"
        if e.is_Integer:
            return base + str(e).translate(_SUPER)
        return f"{base}^({self._print(e)})"

    def _print_Mul(self, expr):
        return super()._print_Mul(expr).replace("*", " ")


def text(expr):
    """A sympy expression as readable plain text (``(π − 2) z²``; not meant to be parsed back).

    >>> import sympy as sp
    >>> text(sp.Symbol("theta1") ** 2 / sp.Symbol("psi") - sp.sqrt(3) * sp.pi)
    'θ₁²/ψ − √3 π'
    """
    out = _TextPrinter().doprint(expr)
    return re.sub(r"(?<![eE\d])-|^-", "−", out)


def latex(expr, names=None):
    r"""LaTeX of an expression (sympy's printer, sums in reading order); ``names`` maps symbols to
    their LaTeX.

    >>> import sympy as sp
    >>> print(latex(sp.Symbol("theta1") - sp.Rational(1, 4)))
    \theta_{1} - \frac{1}{4}
    """
    return _LatexPrinter({"symbol_names": names or {}}).doprint(expr)


def sympy_text(expr):
    """sympy text (parsable) of an expression, sums in reading order.

    >>> import sympy as sp
    >>> sympy_text(sp.pi - 2)
    'pi - 2'
    """
    return _SympyPrinter().doprint(expr)


def tidy(value):
    """A constant (free of G and z) in simplest exact form: ``together``, ``radsimp``, ``factor``.

    Floats are kept as they are (their digits are the information).

    >>> import sympy as sp
    >>> tidy(-1/(64*sp.pi) + sp.Rational(1, 192) + sp.sqrt(3)/(96*sp.pi))
    (-3 + pi + 2*sqrt(3))/(192*pi)
    """
    value = sp.sympify(value)
    if value.is_Number or value.is_Symbol or value.has(sp.Float):
        return value
    if value.is_number and _negative(value):
        return -tidy(-value)
    factored = sp.factor(sp.radsimp(sp.together(value)))
    expanded = sp.expand(value)
    flip = factored.could_extract_minus_sign()
    if flip:
        factored, expanded = -factored, -expanded
    # the factored form unless it is longer by more than a numeric factor: 3 (π − 2), not 3 π − 6
    best = factored if sp.count_ops(factored) <= sp.count_ops(expanded) + 1 else expanded
    return -best if flip else best


def _numeric_content(coeffs):
    """The largest number (free of symbols) dividing every coefficient: rational content times
    common numeric factors such as π (never a symbol, which might vanish)."""
    nonzero = [c for c in coeffs if c != 0]
    if not nonzero or any(c.has(sp.Float) for c in nonzero):
        return sp.Integer(1)
    g = sp.gcd_list(nonzero)
    if g == 0:
        return sp.Integer(1)
    factors = sp.Mul.make_args(sp.factor(g))
    # numbers and positive parameters (φ, ψ > 0): never a factor that might vanish (θ2 ≥ 0)
    numeric = sp.Mul(*[f for f in factors if not f.free_symbols or f.is_positive])
    if numeric.is_number:
        return abs(numeric) if numeric != 0 else sp.Integer(1)
    return numeric


def _clean_floats(expr):
    """Decimals that are integers to their own precision as integers."""
    expr = sp.sympify(expr)
    return expr.xreplace({f: sp.Integer(round(f)) for f in expr.atoms(sp.Float) if _integral(f)})


def _integral(f):
    """Whether a decimal is an integer to its own precision (8.00000000000000 is 8)."""
    import mpmath

    digits = mpmath.libmp.prec_to_dps(f._prec)
    return abs(f - round(f)) <= sp.Float(10) ** (1 - digits) * max(1, abs(f))


def _negative(expr):
    """Whether a coefficient reads with a leading minus sign."""
    if expr.is_number:
        try:
            return bool(expr < 0)
        except TypeError:
            return expr.could_extract_minus_sign()
    return expr.could_extract_minus_sign()


class Equation:
    r"""A polynomial equation :math:`P(x_1, x_2) = 0`, collected for printing (module docstring).

    Parameters
    ----------
    expr : sympy expression
        :math:`P`, a polynomial in the two variables (coefficients: numbers, or expressions in
        parameters that stay symbolic).
    variables : tuple of two sympy Symbols, optional
        Outer and inner variable: the polynomial is collected in descending powers of the first
        (default ``G``), each coefficient in descending powers of the second (default ``z``).
    normalise : bool, optional
        Clear denominators, divide out the numeric content and make the leading coefficient
        positive (default True): the printed polynomial is then :math:`cP` for a number
        :math:`c \ne 0`, the same equation.

    Attributes
    ----------
    terms : list of (int, sympy.Expr, list of (int, sympy.Expr))
        ``(k, factor, [(j, c_j), ...])``: the coefficient of :math:`x_1^k` is
        :math:`\mathrm{factor}\cdot\sum_j c_j x_2^j`, highest powers first.
    """

    def __init__(self, expr, variables=None, normalise=True):
        G, z = variables or sp.symbols("G z")
        self.variables = (G, z)
        expr = sp.expand(sp.sympify(expr))
        if normalise:
            expr = self._normalise(expr)
        # decimals that are integers (8.000…) print as integers
        expr = _clean_floats(expr)
        self.expr = expr
        poly = sp.Poly(expr, G)
        self.degree = poly.degree()
        self.terms = []
        for k in range(self.degree, -1, -1):
            a = sp.expand(poly.coeff_monomial(G ** k))
            if a == 0:
                continue
            self.terms.append((k,) + self._collect(a))

    # -------------------------------------------------------------- building
    def _normalise(self, expr):
        G, z = self.variables
        num, _ = sp.fraction(sp.together(expr))
        num = sp.expand(num)
        poly = sp.Poly(num, G, z)
        coeffs = [sp.expand(c) for c in poly.coeffs()]
        content = _numeric_content(coeffs)
        num = sp.expand(num / content)
        lead = sp.Poly(num, G, z).coeffs()[0]      # highest power of G, then of z
        if _negative(lead if lead.is_number else sp.factor(lead)):
            num = -num
        return num

    def _collect(self, a):
        """(factor, low, [(j, c_j)]) for one coefficient a(z) = factor z^low sum_j c_j z^j."""
        z = self.variables[1]
        p = sp.Poly(a, z)
        # (a Poly over the reals turns integers into decimals: 8 → 8.0)
        inner = [(j, tidy(_clean_floats(c))) for (j,), c in p.terms() if c != 0]
        if len(inner) == 1:
            return sp.Integer(1), 0, inner
        low = min(j for j, _ in inner)
        cs = [c for _, c in inner]
        g = sp.Integer(1)
        if not any(c.has(sp.Float) for c in cs):
            g = sp.factor(sp.gcd_list([sp.expand(c) for c in cs]))
            if g == 0:
                g = sp.Integer(1)
        if _negative(cs[0]):
            g = -g
        return g, low, [(j - low, tidy(sp.expand(c / g))) for j, c in inner]

    # -------------------------------------------------------------- access
    def coefficients(self):
        """The coefficients :math:`a_k(x_2)` in descending powers of the first variable (all of
        them, zeros included), as sympy expressions in their collected form."""
        z = self.variables[1]
        out = {k: f * z ** low * sp.Add(*[c * z ** j for j, c in inner])
               for k, f, low, inner in self.terms}
        return [out.get(k, sp.Integer(0)) for k in range(self.degree, -1, -1)]

    def as_expr(self):
        """:math:`P` as one (expanded) sympy expression."""
        return self.expr

    # -------------------------------------------------------------- printing
    def _term(self, term, fmt, with_power=True):
        """(negative, text) of one term ``a_k G^k`` (or of ``a_k`` alone)."""
        G, z = self.variables
        k, factor, low, inner = term
        power = [(G, k)] if with_power else []
        if len(inner) == 1:
            j, c = inner[0]
            c = factor * c
            neg = _negative(c)
            return neg, _monomial(-c if neg else c, [(z, j)] + power, fmt)
        neg = _negative(factor)
        f = -factor if neg else factor
        inside = _sum([(c, [(z, j)]) for j, c in inner], fmt)
        head = _monomial(f, [(z, low)], fmt) if (f != 1 or low) else ""
        if not (with_power or head or neg):    # a coefficient alone needs no parentheses
            return neg, inside
        group = rf"\left({inside}\right)" if fmt == "latex" else f"({inside})"
        mult = "*" if fmt == "sympy" else " "
        return neg, mult.join(p for p in (head, group, _powers(power, fmt)) if p)

    def _render(self, fmt):
        return _join([self._term(t, fmt) for t in self.terms], fmt)

    def sympy(self):
        """sympy text of the collected polynomial; ``sympy.parse_expr`` reads it back exactly."""
        return self._render("sympy")

    def text(self):
        """Readable plain text: ``^`` as superscripts, Greek letters, ``√``."""
        return self._render("text")

    def latex(self):
        """LaTeX of the collected polynomial (the left-hand side of ``P = 0``)."""
        return self._render("latex")

    def coefficient_strings(self, fmt="sympy"):
        """Each coefficient :math:`a_k` (highest power first, zeros included) printed in ``fmt``
        (``"sympy"``, ``"text"`` or ``"latex"``)."""
        by_k = {t[0]: _join([self._term(t, fmt, with_power=False)], fmt) for t in self.terms}
        return [by_k.get(k, "0") for k in range(self.degree, -1, -1)]

    def __str__(self):
        return self.text() + " = 0"

    def __repr__(self):
        return f"Equation({self.sympy()} = 0)"

    def _repr_latex_(self):
        return f"$${self.latex()} = 0$$"


def _format(expr, fmt):
    if fmt == "sympy":
        return sympy_text(expr)
    if fmt == "text":
        return text(expr)
    return latex(expr)


def _powers(powers, fmt):
    out = []
    for v, e in powers:
        if e == 0:
            continue
        name = _format(v, fmt)
        if e == 1:
            out.append(name)
        elif fmt == "sympy":
            out.append(f"{name}**{e}")
        elif fmt == "text":
            out.append(name + str(e).translate(_SUPER))
        else:
            out.append(f"{name}^{{{e}}}")
    return {"sympy": "*", "text": " ", "latex": " "}[fmt].join(out)


def _monomial(c, powers, fmt):
    """c times the powers, c >= 0 in sign (the caller writes the sign)."""
    pw = _powers(powers, fmt)
    if c == 1 and pw:
        return pw
    cs = _format(c, fmt)
    if c.is_Add:
        cs = rf"\left({cs}\right)" if fmt == "latex" else f"({cs})"
    elif fmt != "latex" and pw and "/" in cs:
        cs = f"({cs})"
    if not pw:
        return cs
    mult = {"sympy": "*", "text": " ", "latex": " "}[fmt]
    return f"{cs}{mult}{pw}"


def _sum(items, fmt):
    pieces = []
    for c, powers in items:
        neg = _negative(c)
        pieces.append((neg, _monomial(-c if neg else c, powers, fmt)))
    return _join(pieces, fmt)


def _join(pieces, fmt):
    minus = "−" if fmt == "text" else "-"
    out = ""
    for i, (neg, body) in enumerate(pieces):
        if i == 0:
            out = (minus if neg else "") + body
        else:
            out += f" {minus} " if neg else " + "
            out += body
    return out or "0"


def parse_own(text_, names=()):
    """Parse a polynomial that nrmt printed (:meth:`Equation.sympy`) back into sympy.

    For nrmt's own output only (user text goes through the allow-list parser of
    :mod:`nrmt.theory.activations`): the global names are restricted to sympy's number classes
    and a few functions, the local names to ``G``, ``z`` and the symbols in ``names``.

    >>> parse_own("(6*z - 9)*G**2 - 4*G + 12")
    G**2*(6*z - 9) - 4*G + 12
    """
    from sympy.parsing.sympy_parser import parse_expr, standard_transformations

    allowed = {name: getattr(sp, name) for name in (
        "Integer", "Rational", "Float", "Symbol", "pi", "E", "sqrt", "exp", "log", "erf", "erfc",
        "Max", "Min", "Abs", "atan", "asin", "acos", "sin", "cos", "tanh", "I")}
    allowed["__builtins__"] = {}
    local = {"G": sp.Symbol("G"), "z": sp.Symbol("z")}
    for s in names:
        local[s.name] = s
    return parse_expr(text_, local_dict=local, global_dict=allowed,
                      transformations=standard_transformations, evaluate=True)


# ---------------------------------------------------------------------- derived equations
#: the convention of every Stieltjes transform nrmt prints
CONVENTION = "G(z) = ∫ ρ(dx)/(z − x)  (G ~ 1/z at infinity, Im G < 0 for Im z > 0)"

#: where the one-layer equation comes from
ONE_LAYER_SOURCE = (
    "J. Pennington and P. Worah, Nonlinear random matrix theory for deep learning, NIPS 2017, "
    "Theorem 1 (eta = theta1, zeta = theta2); L. Benigni and S. Peche, Electron. J. Probab. 26 "
    "(2021) (theta1, theta2, general entries); the quartic by elimination in "
    "nrmt.theory.equations.one_layer")

_THETA_TEX = {"theta1": r"\theta_1", "theta2": r"\theta_2"}
#: bookkeeping entries of ``DerivedEquation.extra`` that are not JSON keys
_INTERNAL = ("variable_map", "description", "convention")


def _jsonable(value):
    """sympy values inside lists/dicts as sympy strings (JSON)."""
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, sp.Basic):
        return sympy_text(value)
    return value


def _name(key, fmt):
    if fmt == "text":
        return GREEK.get(key, key)
    if fmt == "latex":
        return _THETA_TEX.get(key, latex(sp.Symbol(key)))
    return key


def _render(equation, fmt):
    return {"text": equation.text, "latex": equation.latex, "sympy": equation.sympy}[fmt]()


def _value_str(value, fmt):
    return {"sympy": sympy_text, "text": text, "latex": latex}[fmt](value)


class DerivedEquation:
    r"""A derived equation with everything a reader needs: constants, coefficients, moments.

    Made by :func:`one_layer_equation` (and the other builders of this module); printed by
    ``nrmt equation``. ``equation`` is the polynomial with the constants θ1, θ2 kept as symbols,
    ``polynomial`` the same equation with their values substituted (the one the solver uses).

    Attributes
    ----------
    model : str
    parameters : dict
        name → sympy number or Symbol (φ, ψ, σ, ...).
    constants : dict
        name → exact sympy expression, a sympy Float with the digits computed, or a Symbol.
    equation, polynomial : Equation
    discriminant : sympy.Expr or None
    moments : list of sympy.Expr
    atom : sympy.Expr or None
    source : str
    """

    def __init__(self, model, parameters, constants, equation, polynomial, discriminant=None,
                 moments=(), atom=None, source="", activation=None, extra=None):
        self.model = model
        self.activation = activation
        self.parameters = dict(parameters)
        self.constants = dict(constants)
        self.equation = equation
        self.polynomial = polynomial
        self.discriminant = discriminant
        self.moments = list(moments)
        self.atom = atom
        self.source = source
        self.extra = dict(extra or {})

    def constants_listed(self, fmt="text"):
        """``θ₁ = …, θ₂ = …`` for the constants of ``equation`` that have values."""
        out = []
        for key, value in self.constants.items():
            if key not in _THETA_TEX or (isinstance(value, sp.Symbol) and value.name == key):
                continue
            name = {"text": GREEK.get(key, key), "latex": _THETA_TEX[key], "sympy": key}[fmt]
            out.append(f"{name} = {_value_str(value, fmt)}")
        return out

    @property
    def variables(self):
        """The polynomial's variables (``G, z``; ``w, z`` for the moment generating function)."""
        if self.polynomial is not None:
            return self.polynomial.variables
        return sp.symbols("G z")

    def latex(self, substitute=False):
        """The equation typeset: :math:`P(G, z) = 0` with θ1, θ2 and their values listed, or with
        the values substituted (``substitute=True``)."""
        if self.polynomial is None:
            return r" \\ ".join(e for item in self.extra.get("system", []) for e in item["latex"])
        if substitute or not self.constants_listed("latex"):
            return f"{self.polynomial.latex()} = 0"
        listed = r",\quad ".join(self.constants_listed("latex"))
        return f"{self.equation.latex()} = 0,\\qquad {listed}"

    def text(self, substitute=False):
        """The equation as readable text (values listed below unless ``substitute``)."""
        if self.polynomial is None:
            return "\n".join(e for item in self.extra.get("system", []) for e in item["text"])
        if substitute or not self.constants_listed("text"):
            return f"{self.polynomial.text()} = 0"
        return f"{self.equation.text()} = 0,   " + ", ".join(self.constants_listed("text"))

    def as_dict(self, substitute=False):
        """The JSON object of ``nrmt equation --json`` (keys: a contract, see the CLI)."""
        return {
            "activation": self.activation,
            "model": self.model,
            "parameters": {k: sympy_text(v) for k, v in self.parameters.items()},
            "constants": {k: (None if v is None else sympy_text(v)) for k, v in self.constants.items()},
            "variables": [str(v) for v in self.variables],
            "convention": self.extra.get("convention", CONVENTION),
            "polynomial": None if self.polynomial is None else self.polynomial.sympy(),
            "coefficients": None if self.polynomial is None else self.polynomial.coefficient_strings("sympy"),
            "degree": None if self.polynomial is None else self.polynomial.degree,
            "discriminant": None if self.discriminant is None else sympy_text(self.discriminant),
            "moments": [sympy_text(m) for m in self.moments],
            "atom": None if self.atom is None else sympy_text(self.atom),
            "latex": self.latex(substitute),
            "source": self.source,
            **{k: _jsonable(v) for k, v in self.extra.items() if k not in _INTERNAL},
        }

    def residual(self, stieltjes, points, dps=15):
        r"""Relative residual of the printed polynomial at the law's G: the largest over ``points``
        of :math:`|P(G(z), z)| / \sum_k |a_k(z)||G(z)|^k`.

        The polynomial is re-parsed from its own text (:meth:`Equation.sympy`,
        :func:`parse_own`), so this checks that the printed equation is the one solved.

        Parameters
        ----------
        stieltjes : callable
            ``stieltjes(z) -> G(z)`` (e.g. :meth:`nrmt.numerics.law.Law.stieltjes`), mpc or complex.
        points : list of complex (mpc)
        dps : int
            Working precision of the evaluation.

        Returns
        -------
        (mpf, list of mpc)
            The residual and the points.
        """
        import mpmath

        names = [s for s in self.polynomial.expr.free_symbols if s not in self.polynomial.variables]
        if names:
            raise ValueError("the equation has symbolic parameters "
                             f"({', '.join(sorted(map(str, names)))}): give numbers to --check it")
        Gs, zs = self.polynomial.variables
        parsed = parse_own(self.polynomial.sympy())
        poly = sp.Poly(parsed, sp.Symbol(Gs.name))
        stieltjes = self.stieltjes_map(stieltjes)
        coeffs = [sp.lambdify(sp.Symbol(zs.name), c, modules="mpmath") for c in poly.all_coeffs()]
        worst = mpmath.mpf(0)
        with mpmath.workdps(dps + 10):
            for zv in points:
                g = mpmath.mpc(stieltjes(zv))
                a = [mpmath.mpc(c(mpmath.mpc(zv))) for c in coeffs]
                n = len(a) - 1
                value = mpmath.fsum(ak * g ** (n - i) for i, ak in enumerate(a))
                size = mpmath.fsum(abs(ak) * abs(g) ** (n - i) for i, ak in enumerate(a))
                worst = max(worst, abs(value) / size)
        return worst, list(points)

    def check_points(self):
        """A few points off the real axis, scaled to the law (its first moment), where
        :meth:`residual` evaluates the printed polynomial: in the bulk, near it, far out and on the
        negative side."""
        import mpmath

        m1 = self.moments[0] if self.moments else sp.Integer(1)
        scale = float(m1) if m1.is_number and float(m1) > 0 else 1.0
        pts = [(0.5, 0.5), (1.0, 0.05), (3.0, 1.0), (-0.5, 0.25)]
        zs = [mpmath.mpc(scale * a, scale * b) for a, b in pts]
        if self.extra.get("variable_map") == "psi":
            zs = [1 / v for v in zs]           # the moment generating function's variable z = 1/x
        return zs

    def stieltjes_map(self, stieltjes):
        r"""The function whose values are the first variable of the polynomial: ``G`` itself, or
        the moment generating function :math:`\psi(z) = G(1/z)/z - 1` (Jacobian equations)."""
        if self.extra.get("variable_map") == "psi":
            return lambda zv: stieltjes(1 / zv) / zv - 1
        return stieltjes

    def report(self, fmt="text", substitute=False):
        """The readable report printed by ``nrmt equation`` (``fmt``: the notation of formulas)."""
        show = {"text": text, "latex": latex, "sympy": sympy_text}[fmt]
        lines = []
        head = [("activation", self.activation or "(given by its constants)"),
                ("model", self.extra.get("description", self.model)),
                ("parameters", ", ".join(f"{_name(k, fmt)} = {show(v)}" for k, v in self.parameters.items())),
                ("constants", ", ".join(f"{_name(k, fmt)} = {show(v)}" for k, v in self.constants.items()
                                        if v is not None)),
                ("convention", self.extra.get("convention", CONVENTION))]
        for key, value in head:
            lines.append(f"{key:<13} {value}")
        lines.append("")
        if "system" in self.extra:
            lines.append("system (the equations nrmt solves)")
            for item in self.extra["system"]:
                lines.append(f"  [{item['name']}]")
                for e in item[{"text": "text", "latex": "latex", "sympy": "equations"}[fmt]]:
                    lines.append(f"    {e}")
            lines.append("")
        if self.polynomial is not None:
            var = ", ".join(str(v) for v in self.polynomial.variables)
            lines.append(f"equation      P({var}) = 0, degree {self.polynomial.degree} in "
                         f"{self.polynomial.variables[0]}")
            listed = [] if substitute else self.constants_listed(fmt)
            if listed:
                lines.append(f"  {_render(self.equation, fmt)} = 0")
                lines.append(f"  with {', '.join(listed)}:")
            lines.append(f"  {_render(self.polynomial, fmt)} = 0")
            lines.append("coefficients  (powers of " f"{self.polynomial.variables[0]}, highest first)")
            deg = self.polynomial.degree
            G = self.polynomial.variables[0]
            for k, c in zip(range(deg, -1, -1), self.polynomial.coefficient_strings(fmt)):
                lines.append(f"  {_powers([(G, k)], fmt) or '1'}: {c}")
        if "layers" in self.extra:
            lines.append("layers")
            for row in self.extra["layers"]:
                lines.append("  " + ", ".join(f"{_name(k, fmt)} = {show(v) if isinstance(v, sp.Basic) else v}"
                                              for k, v in row.items()))
        if self.extra.get("profile"):
            lines.append("bias profile  (functions of the bias value b = beta; None: no closed form)")
            for k, v in self.extra["profile"].items():
                lines.append(f"  {_name(k, fmt)}(β) = {'None' if v is None else show(v)}")
        if self.extra.get("lambda_atoms"):
            lines.append("λ = f′(√q* Z)² takes  " + ", ".join(
                f"{v} with probability {p}" for v, p in self.extra["lambda_atoms"]))
        if self.discriminant is not None:
            lines.append(f"discriminant  {show(self.discriminant)}   (in G; its real roots hold the edges)")
        if self.moments:
            lines.append("moments       " + ", ".join(f"m{i} = {show(m)}" for i, m in enumerate(self.moments, 1)))
        if self.atom is not None:
            lines.append(f"atom at 0     {show(self.atom)}")
        lines.append(f"source        {self.source}")
        return "\n".join(lines) + "\n"

    def __repr__(self):
        if self.polynomial is None:
            return f"DerivedEquation({self.model!r}: a system of {len(self.extra.get('system', []))} blocks)"
        return f"DerivedEquation({self.model!r}: {self.polynomial.sympy()} = 0)"

    def _repr_latex_(self):
        return f"$${self.latex()}$$"


def _number(value, dps):
    """An exact sympy value unchanged; an mpf/float as a sympy Float with ``dps`` digits."""
    if isinstance(value, sp.Basic):
        return value
    import mpmath

    if isinstance(value, mpmath.mpf):
        return sp.Float(mpmath.nstr(value, dps, strip_zeros=False), dps)
    return sp.sympify(value)


def one_layer_equation(phi, psi, theta1, theta2, *, mean=None, sigma=None, activation=None,
                       moments=4, dps=15):
    r"""The Pennington–Worah equation of one layer, collected for printing.

    Parameters
    ----------
    phi, psi : sympy number or Symbol
        φ = n0/m, ψ = n0/n1 (a Symbol keeps the parameter symbolic, named as given).
    theta1, theta2 : sympy number, mpf or Symbol
        The constants θ1 = η, θ2 = ζ (exact, numeric to ``dps`` digits, or symbolic).
    mean, sigma : optional
        μ = E f(σZ) and σ, listed with the constants / parameters.
    activation : str, optional
        The activation's text (for the record).
    moments : int
        Number of exact moments m_1.. (from the expansion of G at infinity).
    dps : int
        Digits of constants given as mpf.

    Returns
    -------
    DerivedEquation

    Notes
    -----
    The quartic :math:`\sum_k a_k(z) G^k = 0` of [PW]_ Theorem 1 (eliminated in
    :func:`nrmt.theory.equations.one_layer.quartic`), degree 3 when θ1 = θ2 and 2 when θ2 = 0;
    denominators cleared and collected by :class:`Equation` (the same equation up to a non-zero
    number). Discriminant: :func:`~nrmt.theory.equations.one_layer.discriminant_in_z`; moments:
    :func:`~nrmt.theory.equations.one_layer.moments_exact`; atom:
    :func:`~nrmt.theory.equations.one_layer.atom_exact`.

    References
    ----------
    .. [PW] J. Pennington and P. Worah, NIPS 2017, Theorem 1.

    Examples
    --------
    >>> d = one_layer_equation(sp.Integer(2), sp.Integer(1), sp.Integer(1), sp.Integer(0))
    >>> d.polynomial.sympy()          # Marchenko-Pastur, ratio 2, scale 1
    '2*z*G**2 - (z + 1)*G + 1'
    >>> d.moments[:2], d.atom
    ([1, 3], 1/2)
    """
    from nrmt.theory.equations import one_layer as ol

    t1, t2 = _number(theta1, dps), _number(theta2, dps)
    subs_ratio = {ol.phi: phi, ol.psi: psi}
    generic = ol.quartic().as_expr()
    in_theta = sp.expand(generic.subs(subs_ratio))
    full = ol.equation(phi, psi, t1, t2).as_expr()
    linear = bool(sp.simplify(t1 - t2) == 0) if not (t1 - t2).free_symbols else False
    if in_theta != 0 and (t2 == 0 or linear):
        # the degree drops: show the dropped form in θ too
        in_theta = sp.expand(in_theta.subs(ol.theta2, 0 if t2 == 0 else ol.theta1))
    variables = (ol.G, ol.z)
    equation = Equation(in_theta, variables)
    polynomial = Equation(full, variables)
    if any(v.has(sp.Float) for v in (t1, t2)) and full.as_poly(ol.G).degree() == 4:
        # decimals: the generic discriminant with the values substituted (sympy cannot take the
        # discriminant of a polynomial with Float coefficients)
        disc = sp.expand(ol.discriminant_in_z().as_expr().subs(
            {ol.phi: phi, ol.psi: psi, ol.theta1: t1, ol.theta2: t2}))
    else:
        disc = ol.discriminant_in_z(phi, psi, t1, t2).as_expr()
    disc = _collected_in_z(disc, variables)
    ms = [tidy(m) for m in ol.moments_exact(moments, phi, psi, t1, t2)] if moments else []
    atom = ol.atom_exact(phi, psi, linear=linear) if not (phi.free_symbols or psi.free_symbols) \
        else sp.Max(0, 1 - psi / phi) if not linear else sp.Max(0, 1 - psi * sp.Min(1, 1 / phi))
    constants = {"mean": None if mean is None else _number(mean, dps), "theta1": t1, "theta2": t2}
    parameters = {"phi": phi, "psi": psi, "sigma": sp.Integer(1) if sigma is None else sigma}
    return DerivedEquation("one-layer", parameters, constants, equation, polynomial,
                           discriminant=disc, moments=ms, atom=atom, source=ONE_LAYER_SOURCE,
                           activation=activation)



def _collected_in_z(expr, variables):
    """A polynomial in z alone, collected like an :class:`Equation` coefficient (numbers only:
    with symbolic parameters the terms are only grouped by powers of z, factoring would take
    seconds for the discriminant of the generic quartic)."""
    G, z = variables
    if expr == 0:
        return expr
    if expr.free_symbols - {z}:
        gens = [z] + sorted(expr.free_symbols - {z}, key=str)
        monomial, rest = sp.Poly(expr, *gens).terms_gcd()
        head = sp.Mul(*[g ** e for g, e in zip(gens, monomial)])
        p = sp.Poly(rest.as_expr(), z)
        body = sp.Add(*[sp.expand(c) * z ** j for (j,), c in p.terms()])
        return sp.Mul(head, body, evaluate=False) if head != 1 else body
    return Equation(expr * G, variables).coefficients()[0]


def one_layer_from_activation(activation, phi, psi, sigma=None, params=(), dps=15):
    """:func:`one_layer_equation` with the constants of an activation (exact when a closed form
    exists, else to ``dps`` digits; a symbolic σ needs closed forms).

    Parameters
    ----------
    activation : str, sympy expression or Activation
    phi, psi, sigma : sympy numbers or Symbols
    params : sequence of (name, value)
        Values of the activation's free parameters.
    dps : int

    Examples
    --------
    >>> d = one_layer_from_activation("relu", sp.Integer(1), sp.Integer(1))
    >>> d.constants["theta1"], d.constants["theta2"]
    ((-1 + pi)/(2*pi), 1/4)
    """
    from nrmt.theory.activations import Activation, as_activation
    from nrmt.theory.constants import constants
    from nrmt.theory.gaussian import SIGMA

    act = Activation(activation, **dict(params)) if params else as_activation(activation)
    if act.parameters:
        names = ", ".join(sorted(str(p) for p in act.parameters))
        raise ValueError(f"the activation has free parameters ({names}): give their values")
    sig = sp.Integer(1) if sigma is None else sigma
    symbolic = sorted(sig.free_symbols, key=str) if isinstance(sig, sp.Basic) else []
    engine_sigma = sig.xreplace({symbolic[0]: SIGMA}) if len(symbolic) == 1 else sig
    if len(symbolic) > 1:
        raise ValueError(f"sigma may hold one symbol, got {sig}")
    c = constants(act, sigma=engine_sigma, dps=dps + 5)
    values = {}
    for key in ("mean", "theta1", "theta2"):
        exact = c.exact.get(key)
        if exact is not None:
            exact = sp.nsimplify(exact) if exact.is_Float else exact
            values[key] = exact.xreplace({SIGMA: symbolic[0]}) if symbolic else exact
        elif symbolic:
            raise ValueError(f"no closed form of {key} in {symbolic[0]} for {act.text}: give sigma "
                             "as a number")
        else:
            values[key] = _number(getattr(c, key), dps)
    d = one_layer_equation(phi, psi, values["theta1"], values["theta2"], mean=values["mean"],
                           sigma=sig, activation=act.text, dps=dps)
    return d


# ---------------------------------------------------------------------- notebook display
def short(value, digits=10):
    """A parameter value for a repr: exact sympy text when short, else ``digits`` digits.

    >>> import mpmath
    >>> short(sp.Rational(1, 2)), short(mpmath.mpf(2) / 3, 6)
    ('1/2', '0.666667')
    """
    import mpmath

    if isinstance(value, sp.Basic):
        text_ = sympy_text(value)
        if len(text_) <= 24 or not value.is_number:
            return text_
        return mpmath.nstr(mpmath.mpf(sp.N(value, digits + 5)), digits)
    if isinstance(value, (mpmath.mpf, float)):
        return mpmath.nstr(value, digits)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(short(v, digits) for v in value) + "]"
    return str(value)


def _short_sympy(value, digits=10):
    """A value as sympy for LaTeX: exact when short, else a Float with ``digits`` digits."""
    import mpmath

    if isinstance(value, sp.Basic):
        if value.is_number and len(sympy_text(value)) > 24:
            return sp.Float(sp.N(value, digits), digits)
        return value
    if isinstance(value, (mpmath.mpf, float)):
        return sp.Float(mpmath.nstr(value, digits), digits)
    return sp.sympify(value)


_TEX_NAMES = {"gammas": r"\gamma", "weights": r"\mathrm{weights}", "phi": r"\varphi", "psi": r"\psi", "sigma": r"\sigma", "sigma_w": r"\sigma_w",
              "sigma_x": r"\sigma_x", "sigma_b": r"\sigma_b", "theta1": r"\theta_1",
              "theta2": r"\theta_2", "depth": "L", "dps": r"\mathrm{dps}"}


def parameters_latex(params):
    r"""``{"phi": 1/2, ...}`` as ``\varphi = \frac{1}{2},\ ...`` (LaTeX, values shortened).

    >>> parameters_latex({"phi": sp.Rational(1, 2), "depth": 3})
    '\\varphi = \\frac{1}{2},\\ L = 3'
    """
    parts = []
    for key, value in params.items():
        if value is None:
            continue
        name = _TEX_NAMES.get(key, rf"\mathrm{{{key}}}".replace("_", r"\_"))
        if isinstance(value, (list, tuple)):
            shown = "(" + ", ".join(latex(_short_sympy(v)) for v in value) + ")"
        elif isinstance(value, str):
            shown = rf"\mathrm{{{value}}}"
        else:
            shown = latex(_short_sympy(value))
        parts.append(f"{name} = {shown}")
    return r",\ ".join(parts)


def activation_latex(activation):
    r"""An activation as :math:`f(x) = \dots` (sympy's LaTeX of its expression).

    >>> activation_latex("x**2 + x - 1")
    'f(x) = x^{2} + x - 1'
    """
    from nrmt.theory.activations import as_activation

    act = as_activation(activation)
    if act.expr is None:
        return rf"f = \mathtt{{{act.text}}}"
    return f"f(x) = {latex(act.expr)}"


def _law_params(law):
    """The parameters a law records (``params``, or its ratios, scales, depth and weights)."""
    params = dict(getattr(law, "params", None) or {})
    if not params:
        layers = getattr(law, "layer_laws", None) or getattr(law, "profiles", None)
        if layers is not None:
            params["depth"] = len(layers)
        for key in ("gammas", "sigma_w", "sigma_x", "weights"):
            value = getattr(law, key, None)
            if value is not None:
                params[key] = value
    return params


def law_latex(law):
    r"""What a notebook shows for a law: its class, parameters and, for an algebraic law, the
    equation :math:`P(G, z) = 0` it solves (collected; long constants shortened)."""
    params = _law_params(law)
    params["dps"] = law.dps
    head = rf"\mathrm{{{type(law).__name__}}}\left({parameters_latex(params)}\right)"
    if hasattr(law, "polynomial") and callable(law.polynomial):
        expr = law.polynomial()
        expr = expr.xreplace({r: sp.Float(r, 12) for r in expr.atoms(sp.Rational)
                              if r.q > 10**6 or abs(r.p) > 10**12})
        return f"$${head}:\\quad {Equation(expr).latex()} = 0$$"
    return f"$${head}$$"


def law_repr(law):
    """``OneLayerLaw(phi=1/2, psi=2, theta1=0.3942944904, theta2=0.3668791644, dps=15)``."""
    params = _law_params(law)
    inner = [f"{k}={short(v) if not isinstance(v, str) else repr(v)}" for k, v in params.items()]
    inner.append(f"dps={law.dps}")
    return f"{type(law).__name__}({', '.join(inner)})"


def model_latex(model):
    r"""What a notebook shows for a model (:class:`~nrmt.models.one_layer.OneLayer`,
    ``Layers``, ``Bias``, ``Jacobian``): the activation, the parameters and the equation.

    One layer: the Pennington–Worah quartic with θ1, θ2 and their values (closed forms where they
    exist); Jacobian: :math:`S_{JJ^\top}(w) = (S_{D^2}(w) S_{WW^\top}(w))^L`; several layers: the
    parameters (``nrmt equation`` prints the recursion).
    """
    name = type(model).__name__
    act = getattr(model, "activation", None)
    head = activation_latex(act) if act is not None else r"\text{given by } \theta_1, \theta_2"
    keys = {"OneLayer": ("phi", "psi", "sigma"), "Jacobian": ("depth", "sigma_w", "sigma_b", "weights"),
            "Layers": ("phi", "psi", "sigma_w", "sigma_x", "sigma_b"),
            "Bias": ("phi", "psi", "sigma_w", "sigma_x", "sigma_b")}.get(name, ())
    params = {k: getattr(model, k) for k in keys if hasattr(model, k)}
    out = rf"\mathrm{{{name}}}:\ {head};\quad {parameters_latex(params)}"
    if name == "OneLayer":
        from nrmt.theory.equations import one_layer as ol

        t1, t2 = model.thetas(15)
        phi, psi = sp.sympify(model.phi), sp.sympify(model.psi)
        generic = Equation(sp.expand(ol.quartic().as_expr().subs({ol.phi: phi, ol.psi: psi})))
        values = parameters_latex({"theta1": t1, "theta2": t2})
        out += rf"\\ {generic.latex()} = 0,\quad {values}"
    elif name == "Jacobian":
        sw = r"\frac{1}{\sigma_w^2 (1 + w)}" if model.weights == "iid" else r"\frac{1}{\sigma_w^2}"
        out += (rf"\\ S_{{JJ^\top}}(w) = \big(S_{{D^2}}(w)\, S_{{WW^\top}}(w)\big)^{{{model.depth}}},"
                rf"\quad S_{{WW^\top}}(w) = {sw},\quad D^2 \sim f'(\sqrt{{q^*}}Z)^2")
    return f"$${out}$$"
