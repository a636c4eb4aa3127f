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


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_atlas_case(case):
    outcome = atlas.run_case(case, timeout=240)
    assert outcome.status in ("pass", "refused"), f"{outcome.case}: {outcome.reason}"
    if outcome.status == "refused":
        assert outcome.reason and "\n" not in outcome.reason
