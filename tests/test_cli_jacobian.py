"""``nrmt jacobian`` and ``nrmt criticality``: JSON contracts and values from closed forms."""

import json
import math

import mpmath
import pytest
from scipy import stats

from nrmt.cli import main
from noise import ALPHA, KS_NOISE_MAX_JACOBIAN, jacobian_atom_law
from nrmt.theory.equations.jacobian import fuss_catalan


def _json(capsys, argv):
    assert main(argv) == 0
    return json.loads(capsys.readouterr().out)


def test_jacobian_json_relu(capsys):
    r = _json(capsys, ["jacobian", "relu", "--depth", "2", "--sigma-w", "sqrt(2)", "--x",
                       "0.5,1,2", "--json"])
    for key in ("q_star", "chi", "x", "density", "atom", "moments", "cdf", "support", "mean"):
        assert key in r
    assert r["atom"] == "0.5"
    # ReLU, sigma_w^2 = 2, L = 2: m1..m4 = 1, 5, 33, 249 (S-transform series, exact)
    assert [float(m) for m in r["moments"]] == [1.0, 5.0, 33.0, 249.0]
    assert float(r["chi"]) == 1.0 and len(r["density"]) == 3


def test_jacobian_linear_fuss_catalan_at_40_digits(capsys):
    r = _json(capsys, ["jacobian", "x", "--depth", "3", "--sigma-w", "1", "--x", "1",
                       "--dps", "40", "--json"])
    assert [mpmath.mpf(m) for m in r["moments"]] == [fuss_catalan(3, n) for n in range(1, 5)]
    assert r["cdf"] is None and len(r["density"][0].replace(".", "").lstrip("0")) >= 39


def test_criticality_json(capsys):
    r = _json(capsys, ["criticality", "relu", "--q-star", "0.7", "--json"])
    assert r["sigma_w"].startswith("1.41421356237") and r["sigma_b"] == "0" and float(r["chi"]) == 1
    assert r["exact"]["sigma_w2"] == "2"
    r = _json(capsys, ["criticality", "tanh(x)", "--q-star", "0.5", "--dps", "25", "--json"])
    assert abs(float(r["sigma_w2"]) - 1.6880) < 1e-4 and abs(float(r["sigma_b2"]) - 0.0380) < 1e-4


def test_errors_exit_code_2(capsys):
    assert main(["criticality", "x + 1", "--q-star", "0.5"]) == 2
    assert "no critical point" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["jacobian", "tanh", "--depth", "0", "--sigma-w", "1"])


def test_verify_jacobian(capsys):
    argv = ["verify", "relu", "--jacobian", "--depth", "4", "--sigma-w", "1.4142135623730951",
            "--n0", "150", "--trials", "4", "--seed", "1", "--entries", "rademacher", "--json"]
    r = _json(capsys, argv)
    assert r["model"]["model"] == "jacobian" and r["widths"] == [150] * 5
    assert float(r["atom_theory"]) == 0.5
    # the finite-N atom is max_l Binomial(N, 1/2) / N (rank J = min_l rank D_l): its exact law
    mean, sd = jacobian_atom_law(150, 0.5, 4)
    z = (float(r["atom_sample"]) - mean) / (sd / math.sqrt(4))
    assert abs(z) < stats.norm.isf(ALPHA / 2), (r["atom_sample"], mean, sd)
    # no atom (tanh at criticality): KS in units of the noise compare() reports, the spread across
    # trials included (the trial blocks reach compare through the CLI)
    argv = ["verify", "tanh", "--jacobian", "--depth", "4", "--sigma-w", "1.29922096680185",
            "--sigma-b", "0.195041536887065", "--n0", "150", "--trials", "4", "--seed", "1", "--json"]
    r = _json(capsys, argv)
    assert r["ks_split"] is not None and r["moment_se"] is not None
    assert float(r["ks"]) < KS_NOISE_MAX_JACOBIAN * max(float(r["ks_scale"]), float(r["ks_split"]))
    assert main(["verify", "relu", "--n0", "10"]) == 2          # --phi/--psi needed without --jacobian


def test_float_path_prints_exact_edge_and_moments(capsys):
    # linear f, iid weights, L = 2: the product of two Marchenko-Pastur laws (Fuss-Catalan):
    # edge (L+1)^(L+1)/L^L = 27/4 and moments 1, 3, 12, 55 — every printed digit must be right
    assert main(["jacobian", "x", "--depth", "2", "--sigma-w", "1", "--x", "1", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["support"] == [["0", "6.75"]]
    assert data["moments"] == ["1.0", "3.0", "12.0", "55.0"]
