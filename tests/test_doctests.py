"""Run the doctests of every module of the installed ``nrmt`` package.

The package is assembled from three folders (``nrmt/``, ``theory/`` → ``nrmt.theory``, ``numerics/``
→ ``nrmt.numerics``), so the modules are collected by walking the imported package (under their real
names), not with ``--doctest-modules`` on the source folders, which would import them twice under
the wrong names.
"""

import doctest
import importlib
import os
import pkgutil
import re

import pytest

import nrmt

SKIP = {"nrmt.__main__"}  # running it would start the command line


def _walk(package, seen):
    # only the package's own folder: nrmt.__path__ also lists the source root in a checkout
    folder = os.path.dirname(package.__file__)
    for info in pkgutil.iter_modules([folder], package.__name__ + "."):
        name = info.name
        if name in seen or name in SKIP or name.rsplit(".", 1)[-1].startswith("__"):
            continue
        module = importlib.import_module(name)
        seen[name] = module
        if info.ispkg:
            _walk(module, seen)


def all_modules():
    seen = {"nrmt": nrmt}
    for sub in ("nrmt.theory", "nrmt.numerics"):
        seen[sub] = importlib.import_module(sub)
    for package in list(seen.values()):
        _walk(package, seen)
    return dict(sorted(seen.items()))


MODULES = all_modules()
NAMES = list(MODULES)


def test_the_three_source_folders_are_walked():
    assert {"nrmt.theory.errors", "nrmt.cli._common", "nrmt.numerics"} <= set(NAMES)
    # nrmt.__path__ may include the repository root in a source checkout: nothing else leaks in
    assert not any(n.split(".")[1] in {"tests", "docs", "derivations", "benchmarks"} for n in NAMES if "." in n)


@pytest.mark.parametrize("name", NAMES)
def test_doctests(name):
    module = MODULES[name]
    finder = doctest.DocTestFinder(exclude_empty=True)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    tests = finder.find(module, name)  # globals: a copy of the module namespace
    for test in tests:
        runner.run(test)
    result = runner.summarize(verbose=False)
    assert result.failed == 0, f"{result.failed} doctest(s) failed in {name} (see the output above)"


_LONG_FLOAT = re.compile(r"(?<![\w'\"])-?\d+\.\d{7,}(?:e[-+]?\d+)?(?![\w'\"])")
#: a source that rounds, or computes in mpmath (the same digits on every CPU)
_ROUNDED = ("round(", "nstr(", "str(", "format(", "f\"", "f'", "isclose", "allclose", "mpmath",
            "with_digits(")


def test_doctests_print_floats_rounded():
    """No float equality in doctests: a numpy array of floats, or a bare float with many digits,
    is printed through rounding (``round``, ``np.round``, ``mpmath.nstr``, a format) or comes from
    mpmath, so that the last bit of a float64 result (which differs between CPUs and BLAS builds)
    is not compared."""
    finder = doctest.DocTestFinder(exclude_empty=True)
    bad = []
    for name, module in MODULES.items():
        for test in finder.find(module, name):
            for ex in test.examples:
                rounded = any(r in ex.source for r in _ROUNDED)
                floats_array = "array(" in ex.want and "." in ex.want
                if (floats_array or _LONG_FLOAT.search(ex.want)) and not rounded and "mpf(" not in ex.want:
                    bad.append(f"{test.name}: {ex.source.strip()} -> {ex.want.strip()}")
    assert not bad, "doctests comparing unrounded floats:\n" + "\n".join(bad)
