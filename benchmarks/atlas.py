"""The atlas of laws: one property suite over nrmt's whole catalogue (issue 12, item 3).

After scipy.stats' ``test_continuous_basic``: every case of the catalogue is built through the
public API and checked against invariants that need no reference value:

* total mass (density integral + atom) = 1 to ``dps - 3`` digits;
* the moments integrated from the density = the law's exact moments (where the law has them);
* density >= 0 on an edge-resolving grid, > 0 inside the support, 0 outside it;
* the float path and the mp path agree to 1e-12 (relative to the largest density on the grid);
* every contract key of ``nrmt density --json`` / ``nrmt jacobian --json`` is present.

A case either passes, or is *refused* with a one-line reason (an :class:`nrmt.NrmtError` or a
``ValueError`` of one line, the same the command line prints); anything else (a failed invariant,
a traceback, a bare ``NoConvergence``, a timeout) is a failure.

Catalogue: 14 activations (odd, even, neither; kinks; polynomials; linear; saturating;
non-centred) x phi, psi in {0.05, 0.5, 1, 2, 20} x depth 1..4 x bias sigma_b in {0, 0.5, 1.5} x
dps in {15, 30}; Jacobians of 6 activations x depth {1, 4, 16, 64} x iid/orthogonal x at/off
criticality x with/without bias x dps {15, 30}.

Usage::

    python benchmarks/atlas.py                      # the whole atlas (hours on 2 cores)
    python benchmarks/atlas.py --slice fast         # the slice the test suite runs
    python benchmarks/atlas.py --family jacobian --dps 15 --timeout 120
    python benchmarks/atlas.py --workers 2          # cases as Dask tasks on a LocalCluster
    python benchmarks/atlas.py --family density --depth 2 --sample 40 --seed 1   # a random sample

It prints one line per case and the counts: cases run / passed / refused / failed, with timing.
"""

import argparse
import contextlib
import io
import itertools
import json
import signal
import sys
import threading
import time
import traceback
from dataclasses import asdict, dataclass, field

import mpmath
import numpy as np

#: activation -> what kind of case it is (the catalogue's axes)
ACTIVATIONS = {
    "tanh(x)": "odd, saturating",
    "erf(x)": "odd, saturating, closed forms",
    "hardtanh(x)": "odd, two kinks, saturating",
    "sin(x)": "odd, periodic",
    "x**3 - 3*x": "odd polynomial (He3: theta2 = 0)",
    "x": "linear (theta1 = theta2)",
    "relu(x)": "kink, non-centred",
    "abs(x)": "even, kink (theta2 = 0)",
    "x**2": "even polynomial (theta2 = 0)",
    "cos(x)": "even, non-centred",
    "sigmoid(x)": "neither, saturating, non-centred",
    "softplus(x)": "neither, smooth, non-centred",
    "gelu(x)": "neither, closed forms",
    "x**2 + x - 1": "polynomial with an atom",
}
RATIOS = ["0.05", "0.5", "1", "2", "20"]
DEPTHS = [1, 2, 3, 4]
BIASES = ["0", "0.5", "1.5"]
DPS = [15, 30]

JACOBIAN_ACTIVATIONS = ["tanh(x)", "hardtanh(x)", "erf(x)", "relu(x)", "x", "sin(x)"]
JACOBIAN_DEPTHS = [1, 4, 16, 64]

DENSITY_KEYS = {"activation", "phi", "psi", "sigma", "dps", "theta1", "theta2", "x", "density",
                "support", "atom", "moments"}
JACOBIAN_KEYS = {"activation", "depth", "weights", "sigma_w", "sigma_b", "x", "density", "support",
                 "atom", "moments"}


@dataclass
class Case:
    """One entry of the atlas; ``id`` is its pytest id."""

    family: str                      # "density" or "jacobian"
    activation: str
    dps: int
    phi: str = "1"
    psi: str = "1"
    depth: int = 1
    sigma_b: str = "0"
    weights: str = "iid"
    critical: bool = True

    @property
    def id(self):
        if self.family == "density":
            return (f"{self.activation}|phi={self.phi}|psi={self.psi}|L={self.depth}"
                    f"|sb={self.sigma_b}|dps={self.dps}")
        return (f"J|{self.activation}|L={self.depth}|{self.weights}"
                f"|{'crit' if self.critical else 'off'}|sb={self.sigma_b}|dps={self.dps}")


@dataclass
class Outcome:
    case: str
    status: str                      # "pass", "refused", "fail"
    reason: str = ""
    seconds: float = 0.0
    checks: dict = field(default_factory=dict)


# ------------------------------------------------------------------------------------ catalogue
def density_cases(activations=None, ratios=RATIOS, depths=DEPTHS, biases=BIASES, dps=DPS):
    for act, phi, psi, depth, sb, d in itertools.product(
            activations or list(ACTIVATIONS), ratios, ratios, depths, biases, dps):
        yield Case("density", act, d, phi=phi, psi=psi, depth=depth, sigma_b=sb)


def jacobian_cases(activations=None, depths=JACOBIAN_DEPTHS, dps=DPS):
    for act, depth, weights, critical, bias, d in itertools.product(
            activations or JACOBIAN_ACTIVATIONS, depths, ("iid", "orthogonal"), (True, False),
            (False, True), dps):
        yield Case("jacobian", act, d, depth=depth, weights=weights, critical=critical,
                   sigma_b="bias" if bias else "0")


def fast_slice():
    """The slice the default test suite runs: every activation and every axis value at least
    once, about a minute of CPU in all."""
    cases = []
    acts = list(ACTIVATIONS)
    ratio_pairs = [("0.5", "2"), ("2", "0.5"), ("1", "1"), ("0.05", "20"), ("20", "0.05")]
    for i, act in enumerate(acts):
        phi, psi = ratio_pairs[i % len(ratio_pairs)]
        cases.append(Case("density", act, 15, phi=phi, psi=psi))
    for i, act in enumerate(["tanh(x)", "relu(x)", "abs(x)", "x**2", "sigmoid(x)"]):
        cases.append(Case("density", act, 30, phi="0.5", psi="2"))
        cases.append(Case("density", act, 15, phi="1", psi="1", depth=2 + i % 3))
    cases.append(Case("density", "x**2", 30, phi="1", psi="1", depth=2))
    cases.append(Case("density", "tanh(x)", 30, phi="0.5", psi="2", depth=2))
    cases.append(Case("density", "tanh(x)", 15, phi="0.5", psi="2", sigma_b="0.5"))
    cases.append(Case("density", "relu(x)", 15, phi="1", psi="1", sigma_b="1.5"))
    for act, depth, weights, critical, bias in [
            ("tanh(x)", 4, "iid", True, False), ("tanh(x)", 16, "orthogonal", True, True),
            ("relu(x)", 1, "iid", True, False), ("erf(x)", 4, "orthogonal", False, True),
            ("x", 16, "iid", True, False), ("hardtanh(x)", 4, "iid", False, True),
            ("sin(x)", 1, "orthogonal", True, False), ("relu(x)", 64, "iid", True, True)]:
        cases.append(Case("jacobian", act, 15, depth=depth, weights=weights, critical=critical,
                          sigma_b="bias" if bias else "0"))
    cases.append(Case("jacobian", "erf(x)", 30, depth=4, weights="iid", critical=True,
                      sigma_b="bias"))
    return cases


# -------------------------------------------------------------------------------- the checks
def _density_model(case):
    from nrmt import Bias, Layers, OneLayer

    if case.depth == 1 and case.sigma_b == "0":
        return OneLayer(case.activation, phi=case.phi, psi=case.psi)
    if case.depth == 1:
        return Bias(case.activation, phi=case.phi, psi=case.psi, sigma_b=case.sigma_b)
    return Layers(case.activation, phi=case.phi, psi=[case.psi] * case.depth,
                  sigma_b=case.sigma_b)


def _jacobian_parameters(case):
    """sigma_w, sigma_b of a Jacobian case: at criticality (chi = 1) or off it (sigma_w x 0.8)."""
    from nrmt import criticality

    if case.sigma_b == "0":
        # no bias: an odd f with f(0) = 0 has the fixed point q* = 0, where
        # chi = sigma_w^2 f'(0)^2; a positively homogeneous f has chi = sigma_w^2 E f'(Z)^2 at every q
        sw, sb = _CRITICAL_SIGMA_W[case.activation], mpmath.mpf(0)
    else:
        c = criticality(case.activation, "0.5")
        sw, sb = mpmath.sqrt(c.sigma_w2), mpmath.sqrt(c.sigma_b2)
        if sb == 0:
            sb = mpmath.mpf("0.5")   # ReLU/linear have no critical point with a bias
    if not case.critical:
        sw = sw * mpmath.mpf("0.8")
    return mpmath.nstr(sw, 20), mpmath.nstr(sb, 20)


#: sigma_w with chi = 1 without bias (Poole et al. 2016; Schoenholz et al. 2017): 1/|f'(0)| for
#: odd f, 1/sqrt(E f'(Z)^2) for positively homogeneous f
_CRITICAL_SIGMA_W = {
    "tanh(x)": mpmath.mpf(1), "hardtanh(x)": mpmath.mpf(1), "sin(x)": mpmath.mpf(1),
    "x": mpmath.mpf(1), "erf(x)": mpmath.sqrt(mpmath.pi) / 2, "relu(x)": mpmath.sqrt(2),
}


def _cli_json(argv):
    from nrmt.cli import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        rc = main(argv)
    if rc != 0:
        raise ValueError(err.getvalue().strip())
    return json.loads(out.getvalue())


def _build(case):
    """The law and the command line that prints it, for one case."""
    if case.family == "density":
        law = _density_model(case).law(dps=case.dps)
        argv = ["density", case.activation, "--phi", case.phi, "--psi",
                ",".join([case.psi] * case.depth), "--dps", str(case.dps), "--json"]
        if case.sigma_b != "0":
            argv += ["--bias-sigma", case.sigma_b]
        return law, argv, DENSITY_KEYS
    from nrmt import Jacobian

    sw, sb = _jacobian_parameters(case)
    # without a bias an odd f has q* = 0, where every D_l is constant (orthogonal weights: a point
    # mass): the input sets q_1 = sigma_w^2 q0 instead, and the q_l flow from there
    q0 = "1" if case.sigma_b == "0" else None
    law = Jacobian(case.activation, case.depth, sigma_w=sw, sigma_b=sb, q0=q0,
                   weights=case.weights).law(dps=case.dps)
    argv = ["jacobian", case.activation, "--depth", str(case.depth), "--sigma-w", sw,
            "--sigma-b", sb, "--weights", case.weights, "--dps", str(case.dps), "--json"]
    if q0 is not None:
        argv += ["--q0", q0]
    return law, argv, JACOBIAN_KEYS


def check_law(law, dps):
    """The reference-free invariants of one law; returns (failures, numbers)."""
    fails, info = [], {}
    tol = mpmath.mpf(10) ** (-(dps - 3))
    with mpmath.workdps(dps + 10):
        mass = mpmath.mpf(law.mass())
        info["mass_error"] = float(abs(mass - 1))
        if abs(mass - 1) > tol:
            fails.append(f"mass {mpmath.nstr(mass, dps)} != 1")
        support = law.support_mp
        exact = law._moments(4) if hasattr(law, "_moments") else None
    if exact is not None:
        with mpmath.workdps(law.dps + law.guard):
            numeric = law._moments_numeric(4)
            exact = law._moments(4)
            errs = [abs(n - e) / max(1, abs(e)) for n, e in zip(numeric, exact)]
        info["moment_error"] = float(max(errs))
        if max(errs) > tol:
            fails.append(f"moments from the density differ from the exact ones by "
                         f"{mpmath.nstr(max(errs), 3)} (relative; allowed {mpmath.nstr(tol, 2)})")
    # density >= 0 on a grid, > 0 inside, 0 outside
    flaw = law.with_dps(15)
    grid = np.asarray(flaw.grid(60), dtype=float)
    dens = np.asarray(flaw.density(grid), dtype=float)
    if np.any(dens < 0) or not np.all(np.isfinite(dens)):
        fails.append("density negative or not finite on the grid")
    inside = [float((a + b) / 2) for a, b in support]
    if inside and np.any(np.asarray(flaw.density(inside), dtype=float) <= 0):
        fails.append("density not > 0 inside the support")
    outside = []
    for j, (a, b) in enumerate(support):
        w = float(b - a)
        if a > 0:
            outside.append(float(a) - 1e-3 * w)
        nxt = support[j + 1][0] if j + 1 < len(support) else None
        if nxt is None:
            outside += [float(b) + 1e-3 * w, float(b) * 2 + 1]
        elif float(nxt - b) > 2e-3 * w:
            outside.append(float(b + (nxt - b) / 2))
    outside = [x for x in outside if x != 0]
    if outside and np.any(np.asarray(flaw.density(outside), dtype=float) != 0):
        fails.append("density not 0 outside the support")
    # the float and the mp paths agree
    if dps > 15:
        pts = grid[1:-1:6]
        mp_vals = np.array([float(v) for v in law.density([mpmath.mpf(p) for p in pts])])
        fl_vals = np.asarray(flaw.density(pts), dtype=float)
        scale = max(1.0, float(np.max(np.abs(mp_vals))))
        err = float(np.max(np.abs(mp_vals - fl_vals))) / scale
        info["float_vs_mp"] = err
        if err > 1e-12:
            fails.append(f"float and mp paths differ by {err:.2e}")
    return fails, info


class _Timeout(Exception):
    pass


def _alarm(signum, frame):
    raise _Timeout()


def run_case(case, timeout=300, cli=True):
    """Build and check one case; an :class:`Outcome` (never raises)."""
    from nrmt.theory.errors import NrmtError, NoConvergence

    t0 = time.perf_counter()
    # SIGALRM can only be set in the main thread: a Dask worker runs cases in a thread (with
    # --workers the alarm raised "signal only works in main thread" for every case); there the
    # limit is left to the caller
    if threading.current_thread() is not threading.main_thread():
        timeout = 0
    old = signal.signal(signal.SIGALRM, _alarm) if timeout else None
    if timeout:
        signal.alarm(int(timeout))
    try:
        try:
            law, argv, keys = _build(case)
            fails, info = check_law(law, case.dps)
        except NoConvergence as exc:
            return Outcome(case.id, "fail", f"NoConvergence: {str(exc).splitlines()[0]}")
        except (NrmtError, ValueError) as exc:
            msg = str(exc).strip()
            if msg and "\n" not in msg:
                return Outcome(case.id, "refused", msg, time.perf_counter() - t0)
            return Outcome(case.id, "fail", f"{type(exc).__name__} without a one-line reason")
        if cli and not fails:
            try:
                got = _cli_json(argv + ["--x", _points(law)])
            except ValueError as exc:
                fails.append(f"the command line failed: {exc}")
            else:
                missing = keys - set(got)
                if missing:
                    fails.append(f"JSON keys missing: {sorted(missing)}")
        status = "fail" if fails else "pass"
        return Outcome(case.id, status, "; ".join(fails), time.perf_counter() - t0, info)
    except _Timeout:
        return Outcome(case.id, "fail", f"timeout after {timeout} s", time.perf_counter() - t0)
    except Exception as exc:  # noqa: BLE001 - a traceback is a failure of the atlas
        tb = traceback.format_exc().strip().splitlines()
        return Outcome(case.id, "fail", f"traceback: {tb[-1]}", time.perf_counter() - t0)
    finally:
        if timeout:
            signal.alarm(0)
            signal.signal(signal.SIGALRM, old)


def _points(law):
    """Two decimal points inside the first support interval, for the command-line check."""
    a, b = law.with_dps(15).support[0]
    return ",".join(f"{a + (b - a) * t:.6g}" for t in (0.3, 0.7))


# ------------------------------------------------------------------------------------- script
def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--slice", choices=["all", "fast"], default="all")
    p.add_argument("--family", choices=["all", "density", "jacobian"], default="all")
    p.add_argument("--dps", type=int, action="append", help="only these dps (repeatable)")
    p.add_argument("--activation", action="append", help="only these activations (repeatable)")
    p.add_argument("--depth", type=int, action="append", help="only these depths (repeatable)")
    p.add_argument("--sigma-b", action="append",
                   help="only these bias values, as in the case ids: 0, 0.5, 1.5, bias (repeatable)")
    p.add_argument("--weights", choices=["iid", "orthogonal"], help="only these Jacobian weights")
    p.add_argument("--sample", type=int, metavar="K",
                   help="a uniform random sample of K of the selected cases (with --seed)")
    p.add_argument("--seed", type=int, default=0, help="seed of --sample (default 0)")
    p.add_argument("--timeout", type=float, default=300, help="seconds per case (default 300)")
    p.add_argument("--workers", type=int, default=0, help="run cases as Dask tasks on N workers")
    p.add_argument("--json", metavar="FILE", help="write every outcome to FILE")
    args = p.parse_args(argv)

    if args.slice == "fast":
        cases = fast_slice()
    else:
        cases = []
        if args.family in ("all", "density"):
            cases += list(density_cases(args.activation))
        if args.family in ("all", "jacobian"):
            cases += list(jacobian_cases(args.activation))
    if args.dps:
        cases = [c for c in cases if c.dps in args.dps]
    if args.family != "all":
        cases = [c for c in cases if c.family == args.family]
    if args.depth:
        cases = [c for c in cases if c.depth in args.depth]
    if args.sigma_b:
        cases = [c for c in cases if c.sigma_b in args.sigma_b]
    if args.weights:
        cases = [c for c in cases if c.family != "jacobian" or c.weights == args.weights]
    selected = len(cases)
    if args.sample is not None and args.sample < selected:
        pick = np.random.default_rng(args.seed).choice(selected, size=args.sample, replace=False)
        cases = [cases[i] for i in sorted(pick)]
    print(f"atlas: {len(cases)} of {selected} selected cases", flush=True)

    t0 = time.perf_counter()
    outcomes = []
    if args.workers:
        from dask.distributed import Client, LocalCluster, as_completed

        with LocalCluster(n_workers=args.workers, threads_per_worker=1,
                          dashboard_address=None) as cluster, Client(cluster) as client:
            futs = [client.submit(run_case, c, args.timeout, pure=False) for c in cases]
            for fut in as_completed(futs):
                outcomes.append(_report(fut.result()))
    else:
        for c in cases:
            outcomes.append(_report(run_case(c, args.timeout)))
    wall = time.perf_counter() - t0
    counts = {s: sum(o.status == s for o in outcomes) for s in ("pass", "refused", "fail")}
    print(f"\natlas: {len(outcomes)} cases run, {counts['pass']} passed, {counts['refused']} "
          f"refused (one-line reason), {counts['fail']} failed; {wall:.0f} s wall, "
          f"{sum(o.seconds for o in outcomes):.0f} s in cases")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump([asdict(o) for o in outcomes], fh, indent=1)
    return 1 if counts["fail"] else 0


def _report(o):
    print(f"{o.status:7s} {o.seconds:7.1f}s  {o.case}  {o.reason}", flush=True)
    return o


if __name__ == "__main__":
    sys.exit(main())
