"""``nrmt equation``: the printed equations against references written here, independently.

* the Pennington–Worah quartic, typed in from the paper's system (J. Pennington and P. Worah,
  NIPS 2017, Theorem 1; coefficients as in ``shared/theory/one-layer.md``), up to a non-zero factor;
* the moments against Marchenko–Pastur (θ2 = 0: Narayana polynomials in c = φ/ψ) and the linear
  case (θ1 = θ2: product Wishart, Fuss–Catalan at φ = ψ = 1), and against the series of the
  printed polynomial's root at infinity, G = 1/z + m1/z² + …;
* ``--check``: the printed polynomial, re-parsed, vanishes at the solver's G to ``dps`` digits;
* the Jacobian of a one-layer ReLU network at σw² = 2 against Marchenko–Pastur of ratio 2;
* the JSON contract keys, symbolic parameters, exact fractions, one-line errors.
"""

import json

import pytest
import sympy as sp

from nrmt.cli import main

G, z, w = sp.symbols("G z w")
phi, psi, t1, t2 = sp.symbols("phi psi theta1 theta2", positive=True)

ONE_LAYER_KEYS = {"activation", "model", "parameters", "constants", "variables", "convention",
                  "polynomial", "coefficients", "degree", "discriminant", "moments", "atom",
                  "latex", "source"}


def run_json(capsys, *argv):
    code = main(["equation", *argv, "--json"])
    out = capsys.readouterr()
    assert code == 0, out.err
    return json.loads(out.out)


def parse(text, *symbols):
    """sympy text of the output, with the test's own symbols."""
    local = {"G": G, "z": z, "w": w, "phi": phi, "psi": psi, "theta1": t1, "theta2": t2}
    local.update({s.name: s for s in symbols})
    return sp.sympify(text, locals=local)


def paper_quartic(ph, ps, eta, zeta):
    """Pennington–Worah's quartic a4 G^4 + ... + a0 (one-layer.md, from PW Theorem 1)."""
    a4 = ph**2 * zeta * (eta - zeta) * z**2
    a3 = -ph * zeta * z * (ps * z + 2 * (eta - zeta) * (ph - ps))
    a2 = zeta * (eta - zeta) * (ph - ps) ** 2 - ps * z * (eta * ph * ps - 2 * ph * zeta + ps * zeta)
    a1 = ps * (ps**2 * z + (eta * ps - zeta) * (ph - ps))
    a0 = -ps**3
    return a4 * G**4 + a3 * G**3 + a2 * G**2 + a1 * G + a0


def assert_same_equation(p, q):
    """p = c q with c != 0 free of G, z, w (a number or a product of positive ratios)."""
    ratio = sp.cancel(sp.expand(p) / sp.expand(q))
    assert not ratio.free_symbols & {G, z, w}, ratio
    assert ratio.free_symbols <= {phi, psi} and ratio != 0, ratio


def series_residual(poly, moments):
    """The first orders of v^2 P(G, 1/v) with G = v + m1 v^2 + ... (v = 1/z): they all vanish when
    the moments are those of the root at infinity (every a_k has degree <= 2 in z)."""
    v = sp.Symbol("v")
    order = len(moments) + 3
    g = sp.Poly(v + sum(m * v ** (k + 2) for k, m in enumerate(moments)), v)
    cut = sp.Poly(v ** order, v)
    total, power = sp.Poly(0, v), sp.Poly(1, v)
    for k, a in enumerate(reversed(sp.Poly(poly, G).all_coeffs())):
        if k:
            power = (power * g).rem(cut)
        a_v = sp.Poly(sp.expand(a.subs(z, 1 / v) * v**2), v)
        total = total + (a_v * power).rem(cut)
    return [sp.expand(c) for c in total.all_coeffs()]


@pytest.fixture(scope="module")
def generic():
    """The generic equation (all four parameters symbolic), computed once."""
    import contextlib
    import io

    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        code = main(["equation", "--theta1", "theta1", "--theta2", "theta2", "--phi", "phi",
                     "--psi", "psi", "--json"])
    assert code == 0
    return json.loads(buf.getvalue())


def test_generic_equation_is_pennington_worah(generic):
    out = generic
    assert ONE_LAYER_KEYS <= set(out)
    assert out["variables"] == ["G", "z"] and out["degree"] == 4
    p = parse(out["polynomial"])
    assert p.free_symbols == {G, z, phi, psi, t1, t2}
    assert_same_equation(p, paper_quartic(phi, psi, t1, t2))
    # coefficients: powers of G, highest first, they rebuild the polynomial
    coeffs = [parse(c) for c in out["coefficients"]]
    assert sp.expand(sum(c * G ** (4 - k) for k, c in enumerate(coeffs)) - p) == 0
    # the LaTeX is the typeset equation (no Python powers)
    assert "**" not in out["latex"] and r"\theta_{2}" in out["latex"]


def test_generic_moments_series_at_infinity(generic):
    out = generic
    m = [parse(x) for x in out["moments"]]
    # PW / one-layer.md (f): m1 = eta, m2 = eta^2 (1 + phi/psi) + zeta^2/psi
    assert sp.simplify(m[0] - t1) == 0
    assert sp.simplify(m[1] - (t1**2 * (1 + phi / psi) + t2**2 / psi)) == 0
    assert all(c == 0 for c in series_residual(paper_quartic(phi, psi, t1, t2), m))
    wrong = [m[0], m[1], m[2], m[3] + t2**4]
    assert any(c != 0 for c in series_residual(paper_quartic(phi, psi, t1, t2), wrong))


def test_marchenko_pastur_moments_and_equation(capsys):
    out = run_json(capsys, "--theta1", "theta1", "--theta2", "0", "--phi", "phi", "--psi", "psi")
    assert out["degree"] == 2
    c = phi / psi
    narayana = [t1, t1**2 * (1 + c), t1**3 * (1 + 3 * c + c**2), t1**4 * (1 + 6 * c + 6 * c**2 + c**3)]
    for got, want in zip(out["moments"], narayana):
        assert sp.simplify(parse(got) - want) == 0
    # MP with ratio c and scale theta1: c theta1 z G^2 - (z + theta1 (c - 1)) G + 1 = 0
    assert_same_equation(parse(out["polynomial"]), c * t1 * z * G**2 - (z + t1 * (c - 1)) * G + 1)
    assert sp.simplify(parse(out["atom"]) - sp.Max(0, 1 - psi / phi)) == 0


def test_linear_case_product_wishart(capsys):
    out = run_json(capsys, "--theta1", "theta1", "--theta2", "theta1", "--phi", "phi", "--psi", "psi")
    assert out["degree"] == 3
    m2 = parse(out["moments"][1])
    assert sp.simplify(m2 - t1**2 * (1 + phi / psi + 1 / psi)) == 0
    out = run_json(capsys, "--theta1", "1", "--theta2", "1", "--phi", "1", "--psi", "1")
    assert [parse(m) for m in out["moments"]] == [1, 3, 12, 55]      # Fuss-Catalan
    assert_same_equation(parse(out["polynomial"]), z**2 * G**3 - z * G + 1)


def test_relu_exact_constants_and_fraction(capsys):
    out = run_json(capsys, "relu", "--phi", "1/2", "--psi", "2")
    assert out["parameters"] == {"phi": "1/2", "psi": "2", "sigma": "1"}
    eta = (sp.pi - 1) / (2 * sp.pi)                       # relu: 1/2 - 1/(2 pi), zeta = 1/4
    assert sp.simplify(parse(out["constants"]["theta1"]) - eta) == 0
    assert parse(out["constants"]["theta2"]) == sp.Rational(1, 4)
    assert sp.simplify(parse(out["constants"]["mean"]) - 1 / sp.sqrt(2 * sp.pi)) == 0
    assert_same_equation(parse(out["polynomial"]),
                         paper_quartic(sp.Rational(1, 2), 2, eta, sp.Rational(1, 4)))
    # readable: exact coefficients, collected (no pi in a denominator, no decimals)
    assert "." not in out["polynomial"] and "/pi" not in out["polynomial"]
    disc = parse(out["discriminant"])
    assert sp.Poly(disc, z).degree() == 9


def test_check_residual_at_dps(capsys):
    out = run_json(capsys, "relu", "--phi", "1/2", "--psi", "2", "--check", "--dps", "30")
    assert float(out["check"]["residual"]) < 1e-28
    out = run_json(capsys, "tanh(x)", "--phi", "0.5", "--psi", "1.5", "--check")
    assert float(out["check"]["residual"]) < 1e-13
    # the decimals of tanh's constants carry the digits asked for
    assert len(out["constants"]["theta1"].replace("0.", "", 1)) >= 15


def test_text_output_is_readable(capsys):
    assert main(["equation", "relu", "--phi", "1/2", "--psi", "2", "--check"]) == 0
    text = capsys.readouterr().out
    assert "**" not in text and "θ₁" in text and "G⁴" in text
    line = [ln for ln in text.splitlines() if ln.startswith("check")][0]
    assert float(line.split("residual")[1].split()[0]) < 1e-13


def test_symbol_names_as_given(capsys):
    out = run_json(capsys, "--theta1", "1", "--theta2", "1/2", "--phi", "r", "--psi", "2")
    p = parse(out["polynomial"], sp.Symbol("r", positive=True))
    assert {s.name for s in p.free_symbols} == {"G", "z", "r"}
    assert main(["equation", "--theta1", "1", "--theta2", "1/2", "--phi", "r", "--psi", "2",
                 "--check"]) == 2
    assert "symbolic" in capsys.readouterr().err


def test_jacobian_relu_is_marchenko_pastur(capsys):
    out = run_json(capsys, "relu", "--jacobian", "--depth", "1", "--sigma-w", "sqrt(2)", "--check")
    assert out["variables"] == ["w", "z"]
    assert float(out["check"]["residual"]) < 1e-13
    # D W W^T D with D^2 Bernoulli(1/2), sigma_w^2 = 2: MP of ratio c = 2, scale 1, whose
    # G(x) solves c x G^2 - (x + c - 1) G + 1 = 0; w = psi(z) = G(1/z)/z - 1
    c = 2
    x = 1 / z
    g = (1 + w) * z                                   # G(1/z) = z (1 + psi(z))
    mp = sp.numer(sp.together(c * x * g**2 - (x + c - 1) * g + 1))
    assert_same_equation(parse(out["polynomial"]), mp)
    assert [parse(m) for m in out["moments"]] == [1, 3, 11, 45]
    assert parse(out["atom"]) == sp.Rational(1, 2)


def test_layers_and_bias(capsys):
    out = run_json(capsys, "relu", "--phi", "1/2", "--psi", "1,1/2")
    assert out["model"] == "layers" and len(out["layers"]) == 2 and out["system"]
    eta = (sp.pi - 1) / (2 * sp.pi)
    assert sp.simplify(parse(out["layers"][0]["theta1"]) - eta) == 0
    # layer 2 sees variance q2 = theta1(layer 1); relu is homogeneous: theta1 scales with q
    assert sp.simplify(parse(out["layers"][1]["theta1"]) - eta**2) == 0
    out = run_json(capsys, "relu", "--phi", "1/2", "--psi", "1", "--bias-sigma", "1/2")
    assert out["model"] == "bias"
    beta = sp.Symbol("beta", real=True)
    slope = sp.sympify(out["profile"]["slope"], locals={"beta": beta})
    # c(b) = E relu'(Z + b) = Phi(b)
    assert sp.simplify(slope - (1 + sp.erf(beta / sp.sqrt(2))) / 2) == 0


@pytest.mark.parametrize("argv, message", [
    (["relu", "--phi", "-1", "--psi", "2"], "must be > 0"),
    (["relu", "--phi", "__import__('os')", "--psi", "2"], "phi"),
    (["relu", "--phi", "1"], "--psi"),
    (["relu", "--theta1", "1", "--theta2", "0", "--phi", "1", "--psi", "1"], "not both"),
    (["--theta1", "1", "--phi", "1", "--psi", "1"], "theta2"),
    (["relu", "--phi", "z", "--psi", "1"], "reserved"),
    (["relu", "--jacobian", "--depth", "2"], "--sigma-w"),
    (["nosuchfunction(x)", "--phi", "1", "--psi", "1"], "nosuchfunction"),
])
def test_bad_input_one_line_error(capsys, argv, message):
    with pytest.raises(SystemExit) as exc:
        code = main(["equation", *argv])
        raise SystemExit(code)
    assert exc.value.code == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("nrmt equation: error:") and "\n" not in err and "Traceback" not in err
    assert message in err


def test_printed_layer_system_reduces_to_the_quartic(capsys):
    """The recursion printed for one layer (key ``system``), with its symbols given values here
    (c^2 = theta2/q, s^2 = theta1 - theta2, gamma_0 = 1/phi, gamma_1 = psi/phi, sigma_x = 1), is
    eliminated by resultants: what is left is Pennington-Worah's quartic (times factors free of
    the physical root)."""
    out = run_json(capsys, "relu", "--phi", "1/2", "--psi", "1,2")
    blocks = [b for b in out["system"] if not b["name"].startswith("layer 2")]
    # the equations of layer 2's lower neighbour (layer 1) and the input: rename layer 1 as the top
    S = sp.Symbol
    ph, ps, eta, zeta, q = sp.Rational(1, 2), 2, sp.Rational(1, 3), sp.Rational(1, 5), 1
    vals = {S("gamma_0"): 1 / ph, S("gamma_1"): ps / ph, S("c_1"): sp.sqrt(zeta / q),
            S("s_1"): sp.sqrt(eta - zeta), S("sigma_w2"): q, S("sigma_x2"): 1}
    lines = []
    for b in blocks:
        for eq in b["equations"]:
            eq = eq.replace("m_0(w_1/sigma_w2)", "m_0").replace("m_1(z_1)", "m_1")
            lhs, rhs = (sp.sympify(x) for x in eq.split(" = "))
            lines.append((lhs, rhs.subs(vals)))
    # layer 1 as the top of a one-layer network: G = (1 - gamma_1)/z - gamma_1 e0_1, z_1 = gamma_1 z
    g1 = vals[S("gamma_1")]
    lines = [(lhs, rhs) for lhs, rhs in lines if lhs != S("z_1")]
    lines += [(S("z_1"), g1 * z), (G, (1 - g1) / z - g1 * S("e0_1"))]
    unknowns = {S("e0_1"), S("e1_1"), S("m_0"), S("m_1"), G}
    defs = {lhs: rhs for lhs, rhs in lines if lhs.is_Symbol and lhs not in unknowns}
    for _ in range(6):
        defs = {k: v.subs(defs) for k, v in defs.items()}
    res = {str(lhs): sp.together((lhs - rhs).subs(defs)) for lhs, rhs in lines
           if not (lhs.is_Symbol and lhs not in unknowns) and not lhs.has(S("m_1"))}
    assert set(res) == {"G", "e0_1", "e1_1", "0"}
    e0 = sp.solve(res.pop("G"), S("e0_1"))[0]                  # the top line
    res = {k: sp.together(r.subs(S("e0_1"), e0)) for k, r in res.items()}
    m0 = sp.solve(res.pop("e0_1"), S("m_0"))[0]                # linear in m_0
    rest = [sp.numer(sp.together(r.subs(S("m_0"), m0))) for r in res.values()]
    eliminated = sp.resultant(sp.expand(rest[0]), sp.expand(rest[1]), S("e1_1"))
    quartic = paper_quartic(ph, ps, eta, zeta)
    assert sp.rem(sp.Poly(eliminated, G), sp.Poly(quartic, G)).is_zero
    assert sp.Poly(eliminated, G).degree() >= 4


def test_jacobian_hardtanh_decimal_probabilities(capsys):
    # f'^2 of hard-tanh at q* takes 0 and 1 with probabilities erf(1/sqrt(2 q*)) (decimals here)
    out = run_json(capsys, "hardtanh(x)", "--jacobian", "--depth", "2", "--sigma-w", "1.1",
                   "--sigma-b", "0.1", "--check")
    assert out["degree"] == 3 and float(out["check"]["residual"]) < 1e-13


def test_notebook_display_and_digits():
    """Models, laws and equations typeset themselves; an mp result prints the digits it carries
    (not the 17 of the global mp.dps = 15)."""
    import mpmath

    from nrmt.models.one_layer import OneLayer
    from nrmt.plotting import parameter_text

    model = OneLayer("x**2 + x - 1", phi="1/2", psi=2)
    assert "x^{2} + x - 1" in model._repr_latex_() and "G^{" in model._repr_latex_()
    law = model.law(dps=30)
    assert repr(law).startswith("OneLayerLaw(phi=1/2, psi=2") and "dps=30" in repr(law)
    assert "G^{" in law._repr_latex_()
    value = law.support[-1][1]                        # the upper edge, to 30 digits
    assert mpmath.mp.dps == 15
    digits = repr(value).split("'")[1].replace("0.", "", 1).lstrip("0")
    assert len(digits) >= 28, repr(value)
    assert "$f(x) = x^{2} + x - 1$" in parameter_text({"model": "x**2 + x - 1", "phi": 0.5})
