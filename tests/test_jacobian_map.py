"""The Jacobian law over the map (issue 12 item 2): weights, bias, (off-)criticality, depth,
activations; header digits against an independent mean-field recursion; clear refusals."""

import mpmath
import pytest

from nrmt.cli import main
from nrmt.models.jacobian import Jacobian
from nrmt.theory.mean_field import NoFixedPoint, criticality

# tanh at criticality with q* = 1/2 (Schoenholz et al. 2017): sigma_w, sigma_b to 20 digits
_C = criticality("tanh(x)", "0.5", dps=25)
TANH_SW, TANH_SB = mpmath.nstr(_C.sigma_w, 20), mpmath.nstr(_C.sigma_b, 20)

# (activation, depth, sigma_w, sigma_b, weights): a few cases per axis, seconds each
GRID = [
    ("tanh(x)", 1, TANH_SW, TANH_SB, "iid"),             # critical, bias, L = 1
    ("tanh(x)", 16, TANH_SW, TANH_SB, "orthogonal"),     # critical, bias, deep, orthogonal
    ("tanh(x)", 4, "1", "0", "iid"),                     # edge of chaos at q* = 0 (q_l ~ c/l)
    ("relu(x)", 4, "sqrt(2)", "0", "orthogonal"),        # exact atoms, q-free law
    ("hardtanh(x)", 4, "0.8", "0.5", "iid"),             # off critical, bias, kinks
    pytest.param("relu(x)", 64, "1.4", "0", "iid",       # off critical, depth 64 (the atlas'
                 marks=pytest.mark.slow),                # fast slice has tanh at L = 64)
    ("erf(x)", 2, "1.2", "0.3", "orthogonal"),           # off critical, orthogonal, small depth
    ("sin(x)", 4, "1.1", "0.1", "iid"),
]


def _id(g):
    g = g.values if hasattr(g, "values") else g
    return f"{g[0]}-L{g[1]}-{g[4]}-sb{g[3][:6]}"


@pytest.mark.parametrize("act, depth, sw, sb, weights", GRID, ids=[_id(g) for g in GRID])
def test_mass_and_moments_over_the_map(act, depth, sw, sb, weights):
    law = Jacobian(act, depth, sigma_w=sw, sigma_b=sb, weights=weights).law()
    # total mass (density integral from the tail + atom) and the moments of the density against
    # the closed-form moments of the S-transform series: two independent routes
    assert abs(law.mass() - 1) <= 1e-11
    with mpmath.workdps(law.dps + law.guard):
        numeric = law._moments_numeric(3)
        exact = law._moments(3)
    for n, e in zip(numeric, exact):
        assert abs(n - e) <= 1e-10 * abs(e)


def _independent_mean_field(sw, sb, depth, dps):
    """q*, chi, prod chi_l of tanh by mpmath alone: fixed point of q = sw^2 E tanh(sqrt(q) Z)^2 +
    sb^2 by findroot, chi = sw^2 E sech(sqrt(q) Z)^4 (Poole et al. 2016)."""
    with mpmath.workdps(dps):
        sw, sb = mpmath.mpf(sw), mpmath.mpf(sb)

        def gauss(g):
            w = lambda z: g(z) * mpmath.exp(-z * z / 2)   # noqa: E731
            return 2 * mpmath.quad(w, [0, 2, 5, 10, 20]) / mpmath.sqrt(2 * mpmath.pi)

        q = mpmath.findroot(lambda q: sw ** 2 * gauss(lambda z: mpmath.tanh(mpmath.sqrt(q) * z) ** 2)
                            + sb ** 2 - q, mpmath.mpf("0.5"))
        chi = sw ** 2 * gauss(lambda z: mpmath.sech(mpmath.sqrt(q) * z) ** 4)
        return q, chi, chi ** depth


def test_header_digits_against_an_independent_recursion(capsys):
    # issue 12: the header printed mean = 1.000004951246398210429334, right only to ~16 digits
    dps = 25
    q, chi, mean = _independent_mean_field("1.29922", "0.19504", 16, 40)
    mf = Jacobian("tanh", 16, "1.29922", "0.19504").mean_field(dps)
    for got, want in ((mf["q_star"], q), (mf["chi"], chi), (mf["mean"], mean)):
        assert abs(got - want) <= mpmath.mpf(10) ** -(dps + 3) * abs(want)
    # the command line prints them rounded once
    main(["jacobian", "tanh", "--depth", "16", "--sigma-w", "1.29922", "--sigma-b", "0.19504",
          "--x", "1", "--dps", str(dps), "--json"])
    import json

    out = json.loads(capsys.readouterr().out)
    with mpmath.workdps(40):
        for key, want in (("q_star", q), ("chi", chi), ("mean", mean)):
            got = mpmath.mpf(out[key])
            assert abs(got - want) <= mpmath.mpf(10) ** (1 - dps) * abs(want), key


def test_exact_mean_field_cases():
    # linear f: q* = sb^2/(1 - sw^2) and chi = sw^2 exactly; ReLU: chi = sw^2/2
    mf = Jacobian("x", 3, "0.8", "0.3").mean_field(30)
    with mpmath.workdps(50):
        assert abs(mf["q_star"] - mpmath.mpf("0.09") / mpmath.mpf("0.36")) <= mpmath.mpf(10) ** -40
        assert abs(mf["mean"] - mpmath.mpf("0.64") ** 3) <= mpmath.mpf(10) ** -40
    mf = Jacobian("relu", 2, "1", "1/2").mean_field(20)
    assert mf["chi"] == mpmath.mpf("0.5") and mf["q_star"] == mpmath.mpf("0.5")


def test_edge_digits_near_the_upper_edge():
    # square-root onset at the upper edge x_+: rho(x_+ (1 - d)) / sqrt(d) tends to a constant;
    # points 1e-20 and 1e-18 (relative) below the edge on the 30-digit path agree with it
    law = Jacobian("hardtanh", 3, "1.1", "0.2").law(dps=25)
    top = law.support_mp[-1][1]
    with mpmath.workdps(35):
        r = [law.density(top * (1 - mpmath.mpf(10) ** -k)) / mpmath.mpf(10) ** (-k / 2)
             for k in (20, 18)]
    assert r[0] > 0 and abs(r[0] / r[1] - 1) <= 1e-6


def test_hard_edge_at_zero_power_law():
    # linear f, iid weights: Fuss-Catalan, rho(x) ~ c x^(-L/(L+1)) at 0
    L = 2
    law = Jacobian("x", L, "1").law()
    r1, r2 = (float(law.density(x)) for x in (1e-20, 1e-18))
    assert abs(r1 / r2 - 100 ** (L / (L + 1))) <= 1e-3 * 100 ** (L / (L + 1))


def test_no_fixed_point_says_what_to_give():
    with pytest.raises(NoFixedPoint, match="no finite fixed point.*q0") as info:
        Jacobian("relu", 4, "sqrt(2)", "1/2").mean_field()
    assert "\n" not in str(info.value)
    # with q0 the layers' variances come from the input
    law = Jacobian("relu", 4, "sqrt(2)", "1/2", q0=1).law()
    assert abs(law.mass() - 1) <= 1e-11


def test_cli_refusals_are_one_line(capsys):
    for argv in (["criticality", "leaky_relu(x, a)", "--q-star", "1"],
                 ["jacobian", "relu", "--depth", "2", "--sigma-w", "sqrt(2)", "--sigma-b", "0.5"],
                 ["jacobian", "hardtanh", "--depth", "3", "--sigma-w", "1.3", "--sigma-b", "0.2",
                  "--weights", "orthogonal"],
                 ["jacobian", "tanh", "--depth", "1", "--sigma-w", "1.3", "--sigma-b", "0.2",
                  "--weights", "orthogonal"]):
        assert main(argv) == 2
        err = capsys.readouterr().err.strip()
        assert err.startswith("nrmt ") and "\n" not in err, err
    main(["criticality", "leaky_relu(x, a)", "--q-star", "1"])
    assert "--param" in capsys.readouterr().err
