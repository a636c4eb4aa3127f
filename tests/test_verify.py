"""Monte Carlo verification of the one-layer law, and the ``nrmt verify`` command.

The headline check (issue 5): for tanh, centred ReLU and a polynomial activation, at three (φ, ψ)
including ψ < 1 and φ > 1, with Gaussian and Rademacher entries, the KS distance between sampled
spectra and the Pennington–Worah law falls with n like finite-size noise (n0 = 200, 400, 800), and
a law with θ2 off by 20 % is told apart at the largest size. The sample comes from
nrmt.numerics.sampling (independent of the solver), the law from nrmt.models.one_layer.
"""

import json

import numpy as np
import pytest
from scipy.integrate import trapezoid

from nrmt.cli import main
from nrmt.models.one_layer import OneLayer, OneLayerLaw
from nrmt.numerics.compare import compare
from nrmt.numerics.sampling import sample_gram, widths_from_ratios
from noise import KS_NOISE_MAX, assert_ks_agrees, assert_ks_disagrees, z_bound

SIZES = (200, 400, 800)
ACTIVATIONS = ["tanh(x)", "relu(x) - 1/sqrt(2*pi)", "x**2/2 + x"]
RATIOS = [(0.5, 1.0), (1.0, 0.8), (2.0, 1.5)]           # psi < 1 and phi > 1 included


@pytest.mark.parametrize("phi,psi", RATIOS, ids=[f"phi{a}-psi{b}" for a, b in RATIOS])
@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_ks_falls_like_noise_and_a_wrong_law_is_detected(activation, phi, psi):
    model = OneLayer(activation, phi, psi)
    law = model.law()
    theta1, theta2 = (float(v) for v in model.thetas())
    largest = []
    for entries in ("gaussian", "rademacher"):
        ks = []
        for n0 in SIZES:
            widths, m = widths_from_ratios(n0, phi, psi)
            ev = sample_gram(activation, widths, m, entries=entries, rng=n0 + len(entries))
            c = compare(ev, law, moments=0)
            # finite-size noise: within the null band of the documented scale (tests/noise.py)
            assert_ks_agrees(c, entries, n0)
            ks.append(c.ks)
        largest.append(ev)
        # falls with n (noise ~ sqrt(log n)/n: a factor ~0.3 from n0 = 200 to 800)
        assert ks[-1] < 0.6 * ks[0], (entries, ks)
    # universality: Gaussian and Rademacher entries have the same limit, so pool them (2 trials)
    pooled = np.stack(largest)
    right = compare(pooled, law, moments=0)
    wrong = compare(pooled, OneLayerLaw(phi, psi, theta1, 0.8 * theta2), moments=0, cells=80)
    assert_ks_agrees(right)
    assert_ks_disagrees(wrong)


@pytest.mark.parametrize("phi, psi", [(1.0, 0.5), (1.5, 0.75)])
def test_relu_law_at_phi_twice_psi(phi, psi):
    # exact ReLU constants at phi = 2 psi once made the support search fail (a numerically found
    # discriminant root a rounding error away from the exact 0 of the leading coefficient)
    law = OneLayer("relu(x) - 1/sqrt(2*pi)", phi, psi).law()
    assert law.atom == pytest.approx(1 - psi / phi, abs=1e-15)
    (lo, hi), = law.support
    assert 0 < lo < hi
    # the density carries the rest of the mass, and its mean is theta1 = 1/2 - 1/(2 pi)
    xs = np.linspace(lo, hi, 20001)
    rho = law.density(xs)
    assert trapezoid(rho, xs) == pytest.approx(psi / phi, rel=1e-4)
    assert trapezoid(xs * rho, xs) == pytest.approx(0.5 - 1 / (2 * np.pi), rel=1e-4)


def test_linear_equivalent_sampler_agrees_with_the_law_given_by_constants():
    model = OneLayer.from_constants(0.5, 0.3, phi=1.5, psi=0.75)
    law = model.law()
    from nrmt.numerics.sampling import sample_linear_equivalent

    widths, m = widths_from_ratios(300, 1.5, 0.75)
    ev = sample_linear_equivalent(0.5, 0.3, widths[0], widths[1], m, trials=8, rng=3)
    c = compare(ev, law, trials=8, moments=1)
    assert_ks_agrees(c)
    assert c.atom_sample == pytest.approx(law.atom, abs=1e-12)          # the rank: exact
    # E m1 = theta1 exactly at every size (Gaussian Y): a t-test on the spread across trials
    assert abs(c.moment_z[0]) < z_bound(7), c.moment_z


# ------------------------------------------------------------------ the command line
def _run_json(capsys, *argv):
    code = main(["verify", *argv, "--json"])
    out = capsys.readouterr()
    assert code == 0, out.err
    return json.loads(out.out), out.err


BASE = ["tanh(x)", "--phi", "0.5", "--psi", "1", "--n0", "200", "--seed", "3"]


def test_json_contract(capsys):
    d, err = _run_json(capsys, *BASE, "--trials", "2")
    for key in ("ks", "w1", "moments_theory", "moments_sample", "n0", "n1", "m", "trials",
                "entries", "seconds", "ks_scale", "w1_scale", "moment_se", "atom_theory",
                "atom_sample", "model", "seed"):
        assert key in d, key
    assert (d["n0"], d["n1"], d["m"], d["trials"], d["entries"]) == (200, 200, 400, 2, "gaussian")
    assert isinstance(d["ks"], str) and isinstance(d["seconds"], float)
    assert len(d["moments_theory"]) == 4 and len(d["moment_se"]) == 4
    assert float(d["ks"]) < KS_NOISE_MAX * max(float(d["ks_scale"]), float(d["ks_split"]))
    assert err == ""                                       # no progress bar with --json
    # the numbers are those of the library with the same seed
    model = OneLayer("tanh(x)", 0.5, 1)
    ev = model.sample(200, trials=2, rng=3)
    c = compare(ev, model.law(), trials=2)
    assert float(d["ks"]) == pytest.approx(c.ks, rel=1e-6)
    assert [float(v) for v in d["moments_theory"]] == pytest.approx(list(model.law().moments(4)), rel=1e-14)


def test_seed_reproduces_and_entries_change_the_sample(capsys):
    a, _ = _run_json(capsys, *BASE)
    b, _ = _run_json(capsys, *BASE)
    c, _ = _run_json(capsys, *BASE, "--entries", "rademacher")
    assert a["ks"] == b["ks"] and a["moments_sample"] == b["moments_sample"]
    assert c["entries"] == "rademacher" and c["moments_sample"] != a["moments_sample"]


def test_sigma_is_the_product_of_sigma_w_and_sigma_x(capsys):
    a, _ = _run_json(capsys, "tanh(x)", "--phi", "1", "--psi", "0.5", "--n0", "100", "--sigma", "1.2",
                     "--moments", "2")
    b, _ = _run_json(capsys, "tanh(x)", "--phi", "1", "--psi", "0.5", "--n0", "100",
                     "--sigma-w", "1.5", "--sigma-x", "0.8", "--moments", "2")
    assert [float(v) for v in a["moments_theory"]] == pytest.approx([float(v) for v in b["moments_theory"]],
                                                                  rel=1e-12)
    assert (a["n1"], a["m"]) == (200, 100)


def test_plot_is_written(tmp_path, capsys):
    path = tmp_path / "out.png"
    d, _ = _run_json(capsys, "tanh(x)", "--phi", "1", "--psi", "0.5", "--n0", "150", "--seed", "1",
                     "--plot", str(path))
    assert d["plot"] == str(path)
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 20_000


def test_free_parameters_take_values(capsys):
    a, _ = _run_json(capsys, "leaky_relu(x, a)", "--param", "a=0.1", "--phi", "0.5", "--psi", "1",
                     "--n0", "120", "--seed", "1", "--moments", "1")
    b, _ = _run_json(capsys, "leaky_relu(x, 1/10)", "--phi", "0.5", "--psi", "1",
                     "--n0", "120", "--seed", "1", "--moments", "1")
    assert a["moments_theory"] == b["moments_theory"] and a["ks"] == b["ks"]


def test_text_output(capsys):
    assert main(["verify", *BASE]) == 0
    out = capsys.readouterr().out
    assert "KS" in out and "W1" in out and "m4" in out and "atom at 0" in out


def _exit_code(argv):
    try:
        return main(argv)
    except SystemExit as exc:          # argparse refuses before running
        return exc.code


@pytest.mark.parametrize("argv,message", [
    (["tanh(x)", "--phi", "-1", "--psi", "1", "--n0", "10"], "must be > 0"),
    (["tanh(x)", "--phi", "1", "--psi", "1", "--n0", "0"], "must be >= 1"),
    (["tanh(x)", "--phi", "1", "--psi", "1", "--n0", "10", "--entries", "cauchy"], "unknown entry law"),
    (["tanh(x)", "--phi", "1", "--psi", "1", "--n0", "10", "--entries", "student-t:3"], "nu must be > 4"),
    (["tanh(x)", "--phi", "1", "--psi", "1", "--n0", "10", "--sigma", "1", "--sigma-w", "1",
      "--sigma-x", "1"], "not all three"),
    (["__import__('os')", "--phi", "1", "--psi", "1", "--n0", "10"], "nrmt verify: error"),
    (["leaky_relu(x, a)", "--phi", "1", "--psi", "1", "--n0", "10"], "give their values with --param a="),
])
def test_bad_input_exits_2(argv, message, capsys):
    assert _exit_code(["verify", *argv]) == 2
    err = capsys.readouterr().err
    assert message in err


def test_several_psi_are_parsed(capsys):
    from nrmt.verification import build_model, model_sizes
    from nrmt.cli import build_parser

    args = build_parser().parse_args(["verify", "tanh(x)", "--phi", "1", "--psi", "0.5,2", "--n0", "100"])
    assert [str(p) for p in args.psi] == ["1/2", "2"]     # read exactly as written
    sizes = model_sizes(build_model(args), args)
    assert sizes["widths"] == [100, 200, 100] and sizes["m"] == 100


def test_progress_bar_only_on_a_terminal(capsys):
    # not a tty under pytest: no bar even without --json
    assert main(["verify", *BASE]) == 0
    assert "sampling" not in capsys.readouterr().err
