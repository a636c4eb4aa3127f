"""NTK and CK limit laws (Fan & Wang 2020): closed forms, second methods and sampled networks."""

import json
import math
from fractions import Fraction

import mpmath
import numpy as np
import pytest
import sympy

from nrmt.cli import main
from nrmt.models.ntk import NTK, spectrum_warnings
from nrmt.numerics.free import free_product_moments
from nrmt.numerics.ntk_law import DiscreteInput, KernelLaw, MarchenkoPasturInput
from nrmt.numerics.ntk_sampling import gaussian_data
from nrmt.theory.equations import ntk as eq


# ------------------------------------------------------------------ constants and exact mean
def test_relu_constants_exact():
    c = eq.normalisation("relu")
    pi = sympy.pi
    assert sympy.simplify(c.exact["a"] - pi / (pi - 1)) == 0
    assert sympy.simplify(c.exact["b2"] - pi / (2 * (pi - 1))) == 0
    assert not c.linear and not c.linear_free


def test_linear_and_even_flags():
    assert eq.normalisation("2*x - 1").linear
    assert eq.normalisation("x**2").linear_free


@pytest.mark.parametrize("act,depth", [("tanh(x)", 2), ("relu", 2)])
def test_ntk_mean_exact_and_by_integration(act, depth):
    model = NTK(act, depth, [0.5] + [1.0] * depth)
    a = model.constants(30)["a_sigma"]
    with mpmath.workdps(30):
        expected = 1 + sum(a ** k for k in range(1, depth + 1))
    m1 = model.law().moments_mp(1)[0]
    assert abs(m1 - expected) < mpmath.mpf(10) ** -14 * expected
    # a second method: the density integrated (float path)
    integrated = float(model.law()._moments_numeric(1)[0])
    assert abs(integrated - float(expected)) < 1e-9 * float(expected)


def test_ck_moments_closed_form_against_density():
    law = NTK("tanh(x)", 2, [0.5, 1.2, 0.7]).ck_law()
    exact = law.moments(3)
    numeric = [float(v) for v in law._moments_numeric(3)]
    assert np.allclose(exact, numeric, rtol=1e-9)
    circle = [float(v) for v in law._moments_circle_float(3)]       # Cauchy's formula
    assert np.allclose(exact, circle, rtol=1e-12)
    assert abs(law.mass() - 1) < 1e-10


def test_mp_path_moments_and_density():
    model = NTK("tanh(x)", 1, [0.5, 0.8])
    hi = model.law(18)
    lo = model.law()
    assert abs(float(hi.density(["1.5"])[0]) - lo.density(1.5)) < 1e-12
    with mpmath.workdps(22):
        cauchy = hi._moments_cauchy(2)       # the integral of G on a circle vs the exact mean
        assert abs(cauchy[0] - hi.moments_mp(1)[0]) < mpmath.mpf(10) ** -18
    assert abs(float(cauchy[1]) - float(lo.moments(2)[1])) < 1e-10


# ------------------------------------------------------------------ linear activation: closed forms
def test_linear_ck_is_a_free_product_of_marchenko_pastur_laws():
    # X_2^T X_2 = X_0^T W_1^T W_2^T W_2 W_1 X_0 / (d1 d2): MP(1/2) free-cubed (S-transforms)
    law = NTK("x", 2, [0.5, 0.5, 0.5]).ck_law()
    mp = [Fraction(1), Fraction(3, 2), Fraction(11, 4)]          # Narayana moments of MP(1/2)
    expected = free_product_moments([(mp, 3)], 3)
    numeric = [float(v) for v in law._moments_numeric(3)]
    assert np.allclose(numeric, [float(v) for v in expected], rtol=1e-9)
    assert law.atom == 0
    # gamma_L = 2 > 1: rank d_L = n/2, an atom 1/2 at 0
    assert NTK("x", 1, [0.5, 2]).ck_law().atom == 0.5


def test_linear_ntk_is_free_product():
    # K = X0^T (I + W^T W/d1) X0 ~ MP(1) free-times (1 + MP(1))
    cat = [Fraction(v) for v in (1, 2, 5, 14)]
    full = [Fraction(1)] + cat
    shifted = [sum(math.comb(j, i) * full[i] for i in range(j + 1)) for j in range(1, 5)]
    expected = free_product_moments([(cat, 1), (shifted, 1)], 4)
    law = NTK("x", 1, [1, 1]).law()
    numeric = [float(v) for v in law._moments_numeric(4)]
    assert np.allclose(numeric, [float(v) for v in expected], rtol=1e-8)
    assert law.moments(1)[0] == 2.0
    assert NTK("x", 1, [2, 1]).law().atom == 0.5    # ker K = ker X0: rank d0 = n/2


def test_even_activation_is_marchenko_pastur():
    model = NTK("x**2", 2, [0.5, 1, 0.25])            # b = 0: the last layer forgets its input
    lo, hi = model.ck_law().support[0]
    assert abs(lo - 0.25) < 1e-9 and abs(hi - 2.25) < 1e-9
    r = float(model.constants()["r_plus"])            # a = 2: r_plus = 2 + 4
    assert abs(r - 6) < 1e-12
    lo, hi = model.law().support[0]
    assert abs(lo - 6.25) < 1e-9 and abs(hi - 8.25) < 1e-9


# ------------------------------------------------------------------ sampled networks
def _check(cmp, noise_ratio):
    """KS within 4 noise scales; moments within 4 standard errors across networks plus the
    O(k m_k / n) finite-n bias of a sample moment."""
    assert noise_ratio < 4, cmp
    for k, (s, t, e) in enumerate(zip(cmp.moments_sample, cmp.moments_theory, cmp.moment_se), 1):
        assert abs(s - t) < 4 * (e + k * abs(t) / cmp.n), (k, s, t, e)


@pytest.mark.parametrize("depth,gamma", [(1, [0.5, 0.8]), (2, [0.5, 1.2, 0.7])])
def test_tanh_against_sampled_networks(depth, gamma):
    model = NTK("tanh(x)", depth, gamma)
    v = model.verify(200, trials=6, rng=7, moments=2)
    _check(v.ck, v.noise_ratio(v.ck))
    _check(v.ntk, v.noise_ratio(v.ntk))


def test_dataset_spectrum_against_sampling():
    # correlated features: X0 = C^(1/2) G / sqrt(d0), tr C / d0 = 1 -> a non-MP Gram spectrum
    rng = np.random.default_rng(3)
    d0, n = 180, 120
    c = np.where(np.arange(d0) < d0 // 2, 0.2, 1.8)
    x0 = np.sqrt(c)[:, None] * gaussian_data(d0, n, rng=rng)
    eig = np.linalg.eigvalsh(x0.T @ x0)
    model = NTK("tanh(x)", 1, [n / d0, 0.8], input_spectrum=eig)
    assert model.warnings == []
    s = model.sample(n, trials=6, data=x0, rng=rng)
    from nrmt.numerics.compare import compare
    from nrmt.models.ntk import KernelVerification

    ck = compare(s.ck, model.ck_law(), moments=2, cells=60)
    ntk = compare(s.ntk, model.law(), moments=2, cells=60)
    _check(ck, KernelVerification.noise_ratio(ck))
    _check(ntk, KernelVerification.noise_ratio(ntk))
    # the Marchenko-Pastur input law does not describe these data
    mp = compare(s.ck, NTK("tanh(x)", 1, [n / d0, 0.8]).ck_law(), moments=2, cells=60)
    assert KernelVerification.noise_ratio(mp) > 2 * KernelVerification.noise_ratio(ck)


def test_input_spectra():
    assert isinstance(NTK("tanh(x)", 1, [0.5, 1]).input, MarchenkoPasturInput)
    law = NTK("x", 1, [0.5, 1], input_spectrum="orthonormal").ck_law()
    lo, hi = law.support[0]                          # MP(1) exactly
    assert abs(lo) < 1e-12 and abs(hi - 4) < 1e-9
    assert spectrum_warnings(np.full(5, 1.0)) == []
    assert len(spectrum_warnings(np.r_[np.full(99, 0.9), 100.0])) == 2
    with pytest.raises(ValueError, match="gamma_0 <= 1"):
        NTK("tanh(x)", 1, [2, 1], input_spectrum="orthonormal")
    with pytest.raises(ValueError, match="must list 3 ratios"):
        NTK("tanh(x)", 2, [1, 1])
    with pytest.raises(ValueError, match=">= 0"):
        DiscreteInput([-1.0, 1.0])
    with pytest.raises(TypeError):
        KernelLaw(0.5, [1, 1], [1.0])


# ------------------------------------------------------------------ CLI
def test_cli_json_keys(capsys):
    assert main(["ntk", "tanh(x)", "--depth", "1", "--gamma", "0.5,0.8", "--x", "1,2", "--json"]) == 0
    res = json.loads(capsys.readouterr().out)
    for key in ("activation", "depth", "gamma", "a_sigma", "b_sigma", "r_plus", "q", "x",
                "density", "support", "atom", "moments", "ck_moments"):
        assert key in res
    assert res["depth"] == 1 and len(res["q"]) == 1 and len(res["moments"]) == 4
    assert "sd f" in res["normalisation"]


def test_cli_file_and_bad_input(tmp_path, capsys):
    f = tmp_path / "eig.txt"
    f.write_text("# eigenvalues\n" + "\n".join(str(v) for v in np.linspace(2, 6, 50)))
    assert main(["ntk", "tanh(x)", "--depth", "1", "--gamma", "1,1", "--input-spectrum", str(f),
                 "--x", "3", "--json"]) == 0
    out = capsys.readouterr()
    assert "warning: mean eigenvalue 4" in out.err
    assert json.loads(out.out)["input_spectrum"]["size"] == 50
    bad = [
        (["--depth", "2", "--gamma", "1,1"], "--gamma needs 3 ratios"),
        (["--depth", "1", "--gamma", "1,1", "--input-spectrum", str(tmp_path / "no.npy")], "not found"),
        (["--depth", "1", "--gamma", "1,-1"], "must be > 0"),
    ]
    np.save(tmp_path / "m.npy", np.ones((3, 3)))
    bad.append((["--depth", "1", "--gamma", "1,1", "--input-spectrum", str(tmp_path / "m.npy")],
                "1-D list"))
    for args, msg in bad:
        with pytest.raises(SystemExit) if "must be > 0" in msg else _nothing():
            code = main(["ntk", "tanh(x)", *args, "--x", "1"])
            assert code == 2
        err = capsys.readouterr().err.strip()
        assert msg in err and len(err.splitlines()) == 1 and "Traceback" not in err


class _nothing:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def test_cli_verify_ntk_json(capsys):
    assert main(["verify", "--ntk", "tanh(x)", "--depth", "1", "--gamma", "0.5,0.8", "--n0", "80",
                 "--trials", "2", "--seed", "1", "--moments", "2", "--json"]) == 0
    res = json.loads(capsys.readouterr().out)
    for part in ("ck", "ntk"):
        for key in ("ks", "ks_scale", "ks_split", "ks_noise_ratio", "w1", "w1_scale",
                    "moments_theory", "moments_sample", "moment_se"):
            assert key in res[part]
    assert res["widths"] == [160, 100]


def test_relu_ck_equals_the_several_layer_law():
    # ReLU is positively homogeneous, so nrmt's several-layer law (its own recursion, Wagner et
    # al.'s deterministic equivalent, unnormalised f) rescaled to mean 1 is Fan-Wang's CK:
    # B_L = Y_L^T Y_L / n_L has moments gamma_L^(k-1) m_k(M)
    from nrmt.models.layers import Layers

    g = [0.5, 1.2, 0.7]
    m = Layers("relu", phi=1 / g[0], psi=[g[1] / g[0], g[2] / g[1]]).law().moments(3)
    b = [g[-1] ** (k - 1) * m[k - 1] for k in (1, 2, 3)]
    ck = NTK("relu", 2, g).ck_law().moments(3)
    assert np.allclose([b[k - 1] / b[0] ** k for k in (1, 2, 3)], ck, rtol=1e-9)


def test_backpropagation_against_finite_differences():
    """The sampler's NTK is the Gram matrix of the gradients of f in all weights (W_1, W_2, w)."""
    from nrmt.numerics.ntk_sampling import network_kernels

    rng = np.random.default_rng(5)
    dims, n = [4, 5, 3], 3
    x = rng.standard_normal((dims[0], n)) / 2
    ws = [rng.standard_normal((dims[1], dims[0])), rng.standard_normal((dims[2], dims[1]))]
    w = rng.standard_normal(dims[2])
    mean, sd = 0.1, 0.7

    def f(params):
        w1 = params[:20].reshape(5, 4)
        w2 = params[20:35].reshape(3, 5)
        out = params[35:]
        x1 = (np.tanh(w1 @ x) - mean) / (sd * np.sqrt(5))
        x2 = (np.tanh(w2 @ x1) - mean) / (sd * np.sqrt(3))
        return out @ x2, x2

    p0 = np.concatenate([ws[0].ravel(), ws[1].ravel(), w])
    h = 1e-6
    jac = np.array([(f(p0 + h * e)[0] - f(p0 - h * e)[0]) / (2 * h) for e in np.eye(p0.size)]).T
    ck, ntk = network_kernels("tanh(x)", x, ws, w, mean=mean, sd=sd)
    assert np.allclose(ntk, jac @ jac.T, rtol=1e-7, atol=1e-9)
    assert np.allclose(ck, f(p0)[1].T @ f(p0)[1], rtol=1e-12)
