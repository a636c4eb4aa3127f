"""The fast slice of the atlas of laws (benchmarks/atlas.py; the whole atlas is the script).

Every case of the slice passes the reference-free invariants (mass = 1 to dps - 3 digits, exact
moments = moments of the density, density >= 0 / > 0 inside / 0 outside the support, float and mp
paths agree to 1e-12, every JSON key of the command line present), or is refused with a one-line
reason. A traceback, a bare NoConvergence or a failed invariant fails the test.
"""

import importlib.util
import pathlib

import pytest

_path = pathlib.Path(__file__).resolve().parents[1] / "benchmarks" / "atlas.py"
_spec = importlib.util.spec_from_file_location("nrmt_atlas", _path)
atlas = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(atlas)

CASES = atlas.fast_slice()


def test_fast_slice_covers_every_axis():
    """Every activation of the catalogue, every depth and bias kind, both dps, both weight laws."""
    dens = [c for c in CASES if c.family == "density"]
    jac = [c for c in CASES if c.family == "jacobian"]
    assert {c.activation for c in dens} == set(atlas.ACTIVATIONS)
    assert len(atlas.ACTIVATIONS) >= 12
    assert {c.depth for c in dens} == set(atlas.DEPTHS)
    assert {c.dps for c in CASES} == set(atlas.DPS)
    assert {c.sigma_b != "0" for c in dens} == {True, False}
    assert {c.weights for c in jac} == {"iid", "orthogonal"}
    assert {c.critical for c in jac} == {True, False}
    assert {c.depth for c in jac} == set(atlas.JACOBIAN_DEPTHS)


#: Known gaps the atlas found (issue 12 item 3), kept as strict xfails so that a fix shows up as
#: XPASS; cases that run past the limit get a short one in the test.
KNOWN_FAILURES = {
    "tanh(x)|phi=1|psi=1|L=2|sb=0|dps=15": "layers law float path: mass 1 + 5.7e-7",
    "relu(x)|phi=1|psi=1|L=3|sb=0|dps=15": "layers law float path: mass 1 + 3.4e-7",
    "sigmoid(x)|phi=1|psi=1|L=3|sb=0|dps=15": "layers law: support scan runs past 150 s",
    "tanh(x)|phi=0.5|psi=2|L=1|sb=0.5|dps=15": "bias law float path: mass 1 - 1.2e-4",
    "relu(x)|phi=1|psi=1|L=1|sb=1.5|dps=15": "bias law: support scan runs past 150 s",
    "J|erf(x)|L=4|iid|crit|sb=bias|dps=30": "Jacobian mp path with a bias: past 150 s",
}
_SLOW_FAILURES = {k for k, v in KNOWN_FAILURES.items() if "past" in v}


#: Cases over 10 s on one core (``slow``: run with ``--runslow``): the two-layer tanh law at dps 30
#: checks its mass and moments with ~3000 mpmath solves (about 3 minutes); the layers law's mpmath
#: path keeps fast tests in the default run (tests/test_layers_exact.py, Fuss-Catalan moments and
#: the one-layer law at 40-50 digits).
SLOW = {"tanh(x)|phi=0.5|psi=2|L=2|sb=0|dps=30"}


def _param(case):
    reason = KNOWN_FAILURES.get(case.id)
    marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
    if case.id in SLOW or reason:
        # a known gap fails only after its checks or its time limit (20-80 s each): with --runslow
        marks.append(pytest.mark.slow)
    return pytest.param(case, id=case.id, marks=marks)


@pytest.mark.parametrize("case", [_param(c) for c in CASES])
def test_atlas_case(case):
    outcome = atlas.run_case(case, timeout=20 if case.id in _SLOW_FAILURES else 240)
    assert outcome.status in ("pass", "refused"), f"{outcome.case}: {outcome.reason}"
    if outcome.status == "refused":
        assert outcome.reason and "\n" not in outcome.reason
