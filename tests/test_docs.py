"""The documentation site builds in strict mode, and its generated parts are complete.

The build runs ``mkdocs build --strict`` (warnings are errors: broken links, missing pages,
docstrings that cannot be collected, a failing gallery figure) into a temporary folder.
"""

import os
import re
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

pytest.importorskip("mkdocs", reason="docs build needs the test extra (mkdocs, mkdocs-material, mkdocstrings)")


def _build(out):
    # one BLAS thread: the gallery's eigenvalue problems are small, and threads that spin on a
    # shared CI machine (pytest -n 2) cost more CPU than they save
    env = dict(os.environ, NO_MKDOCS_2_WARNING="1", OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1",
               MKL_NUM_THREADS="1")
    env.pop("NRMT_DOCS_SKIP_GALLERY", None)
    proc = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--config-file",
         os.path.join(ROOT, "mkdocs.yml"), "--site-dir", str(out)],
        cwd=ROOT, capture_output=True, text=True, env=env, timeout=600,
    )
    assert proc.returncode == 0, f"mkdocs build --strict failed:\n{proc.stdout}\n{proc.stderr}"


def _read(site, page):
    with open(os.path.join(site, page, "index.html"), encoding="utf-8") as fh:
        return fh.read()


def test_site_builds_strict_and_is_complete(tmp_path):
    """One test (one build, also under pytest-xdist): strict build, then the generated parts."""
    from nrmt.cli import build_parser

    site = tmp_path / "site"
    _build(site)

    # the CLI reference lists every sub-command the parser has
    html = _read(site, "cli")
    parser = build_parser()
    names = [a for act in parser._actions if hasattr(act, "choices") and isinstance(act.choices, dict)
             for a in act.choices]
    assert names
    for name in names:
        assert f"nrmt {name}" in html, f"sub-command {name!r} missing from the CLI reference"
    assert "nrmt:cli-reference" not in html

    # the API reference renders docstrings of all three source folders (nrmt/, theory/, numerics/)
    html = _read(site, "api")
    for obj in ("nrmt.theory.errors", "NoConvergence", "nrmt.numerics.law", "nrmt.models.one_layer"):
        assert obj in html, f"{obj} missing from the API reference"

    # every gallery image was drawn by the build, and is not empty
    html = _read(site, "gallery")
    images = re.findall(r'src="([^"]+\.png)"', html)
    assert len(images) >= 4
    gallery = os.path.join(site, "gallery")
    made = sorted(os.listdir(gallery)) if os.path.isdir(gallery) else []
    for src in images:
        assert os.path.basename(src) in made, f"gallery image {src} was not drawn"
    for name in made:
        assert os.path.getsize(os.path.join(gallery, name)) > 5000, f"{name} looks empty"


# --------------------------------------------------------------------------------------------
# The commands shown in the README and in every page are real: every ``$ nrmt ...`` line of a
# fenced block is run (in-process) and its output compared with the page — exact text, ``...``
# matching any text (doctest ELLIPSIS, for timings). The rules, and the script that rewrites the
# outputs after a change (``python docs/update_examples.py``), are in docs/update_examples.py.

DOCS = os.path.join(ROOT, "docs")


def _load_examples_module():
    import importlib.util

    spec = importlib.util.spec_from_file_location("nrmt_docs_update_examples",
                                                  os.path.join(DOCS, "update_examples.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


EX = _load_examples_module()
EXAMPLES = EX.examples()


def test_every_page_with_a_console_example_is_collected():
    pages = {ex.page for ex in EXAMPLES}
    assert "README.md" in pages and "docs/getting-started.md" in pages
    assert len([p for p in pages if p.startswith("docs/howto/")]) >= 4, pages
    # no page hides an nrmt transcript where the examples are not looked for
    for path in EX.pages():
        with open(path, encoding="utf-8") as fh:
            if "\n$ nrmt " in fh.read():
                assert os.path.relpath(path, ROOT) in pages, path
    # the parser itself: commands, outputs, markers
    lines = ["```console", "$ nrmt a  # note", "out", "", "... s", "", "$ nrmt b", "```", "$ nrmt c"]
    blocks = EX._blocks(lines)
    assert [(a, b) for a, b, _ in blocks] == [(1, 7)]
    assert EX._parse(lines, 1, 7, "") == [("nrmt a  # note", ["out", "", "... s"]), ("nrmt b", [])]
    assert EX.matches(["x = ...", "  y"], ["x = 1.5 s", "  y"])
    assert not EX.matches(["x = 1", "  y"], ["x = 1", "y"])          # exact, not whitespace-blind
    assert EX._merge(["KS ... 2", "t"], ["KS 0.1 2", "13.6 s (10.6 s sampling)"]) == \
        ["KS ... 2", "... s (... s sampling)"]


@pytest.mark.parametrize("example", EXAMPLES, ids=[ex.id for ex in EXAMPLES])
def test_console_example(example, tmp_path):
    for cmd, expected in example.commands:
        code, got = EX.run(cmd, cwd=tmp_path)   # files written by --output / --plot land here
        shown = "\n".join(got)
        assert EX.matches(expected, got), (
            f"{example.id}: `{cmd}` (exit {code}) printed\n{shown}\n\nbut the page shows\n"
            + "\n".join(expected) + "\n(refresh with `python docs/update_examples.py`)")
        assert code == EX.expected_code(expected), f"{example.id}: `{cmd}` exited with {code}:\n{shown}"


# --------------------------------------------------------------------------------------------
# The published reference tables (docs/tables/*.csv, written by `nrmt table`): a sample of their
# rows is re-computed with the library and must agree to the digits the table states.

TABLES = sorted(
    os.path.join(DOCS, "tables", n) for n in os.listdir(os.path.join(DOCS, "tables")) if n.endswith(".csv")
)


def _read_table(path):
    import csv

    header, body = {}, []
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            if line.startswith("#"):
                key, sep, value = line[1:].partition(":")
                if sep:
                    header[key.strip()] = value.strip()
            elif line.strip():
                body.append(line)
    rows = list(csv.reader(body))
    return header, rows[0], rows[1:]


def test_reference_tables_exist():
    names = " ".join(os.path.basename(t) for t in TABLES)
    assert len(TABLES) >= 3 and "tanh" in names and "relu" in names and "poly" in names, names


@pytest.mark.parametrize("path", TABLES, ids=[os.path.basename(t) for t in TABLES])
def test_reference_table_rows_recomputed(path):
    import mpmath

    from nrmt.models.one_layer import OneLayer
    from nrmt.theory.constants import constants

    header, columns, rows = _read_table(path)
    assert columns == ["x", "density", "cdf"]
    assert len(rows) >= 200, "a reference table has at least 200 rows"
    dps = int(header["dps"])
    phi, psi, sigma = (float(header[k]) for k in ("phi", "psi", "sigma"))
    with mpmath.workdps(dps + 10):
        tol = mpmath.mpf(10) ** (-dps + 2)
        c = constants(header["activation"], sigma=sigma, dps=dps)
        assert abs(mpmath.mpf(header["theta1"]) - c.theta1) <= tol * abs(c.theta1)
        assert abs(mpmath.mpf(header["theta2"]) - c.theta2) <= tol * max(abs(c.theta2), tol)
        # the table is monotone and its CDF ends at 1
        cdf = [mpmath.mpf(r[2]) for r in rows]
        assert all(b >= a for a, b in zip(cdf, cdf[1:])) and abs(cdf[-1] - 1) <= tol
        assert all(mpmath.mpf(r[1]) >= 0 for r in rows)
        law = OneLayer(header["activation"], phi, psi, sigma).law(dps=dps)
        assert abs(mpmath.mpf(header["atom"]) - law.atom) <= tol
        sample = [rows[i] for i in (1, len(rows) // 3, len(rows) // 2, -2)]
        xs = [mpmath.mpf(r[0]) for r in sample]
        for r, got in zip(sample, law.density(xs)):
            want = mpmath.mpf(r[1])
            assert abs(got - want) <= tol * max(abs(want), 1), (r[0], got, want)
        r = rows[len(rows) // 2]
        got = law.cdf(mpmath.mpf(r[0]))
        assert abs(got - mpmath.mpf(r[2])) <= tol, (r[0], got, r[2])
