"""Every derivation script in ``derivations/`` runs to the end: a failing identity fails the suite.

Each script starts from a paper's own system, derives with sympy the form nrmt uses and asserts the
identities (see ``derivations/README`` in each script's header). They run in a fresh interpreter, as
a reader would run them (``python derivations/NAME.py``), and must take seconds, not minutes.
"""

import glob
import os
import subprocess
import sys
import resource

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SCRIPTS = sorted(glob.glob(os.path.join(ROOT, "derivations", "*.py")))
TIME_LIMIT = 300  # seconds of wall clock: a hard stop (a loaded CI machine is slow)
CPU_LIMIT = 20  # seconds of CPU: "runs in seconds", measured independently of the machine's load


def test_there_are_derivations():
    assert SCRIPTS, "derivations/ holds no script"


@pytest.mark.parametrize("script", SCRIPTS, ids=[os.path.basename(s) for s in SCRIPTS])
def test_derivation_runs(script):
    with open(script, encoding="utf-8") as fh:
        text = fh.read()
    assert "# %%" in text, "a derivation is a script with '# %%' cells (opens as a notebook with jupytext)"
    assert "assert" in text, "a derivation asserts its identities"
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    try:
        proc = subprocess.run([sys.executable, script], cwd=ROOT, capture_output=True, text=True,
                              timeout=TIME_LIMIT, env=dict(os.environ, MPLBACKEND="Agg"))
    except subprocess.TimeoutExpired:
        pytest.fail(f"{os.path.basename(script)} did not finish in {TIME_LIMIT} s; a derivation "
                    "should run in seconds")
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    assert proc.returncode == 0, (
        f"{os.path.basename(script)} failed (exit {proc.returncode}):\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    )
    assert cpu < CPU_LIMIT, f"{os.path.basename(script)} took {cpu:.1f} s of CPU; a derivation should run in seconds"
