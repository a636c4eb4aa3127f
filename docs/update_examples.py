"""The console examples of the README and the documentation: find them, run them, refresh them.

A console example is a fenced code block (in ``README.md`` or any page under ``docs/``) with lines
``$ nrmt ...``: each such line is a command, the lines after it (up to the next ``$`` line or the
end of the block) are its output — standard output and standard error as a terminal shows them.
``tests/test_docs.py`` runs every example (in-process, :func:`nrmt.cli.main`) and compares its
output with the page:

* exact text, line by line (trailing spaces ignored);
* ``...`` stands for any text, as doctest's ``ELLIPSIS``: use it for what legitimately varies from
  run to run (timings such as ``... s (... s sampling)``) or to elide a long output;
* a command whose output contains ``error:`` must exit with 2, any other with 0.

Run this script after a change of output to rewrite the outputs in place::

    python docs/update_examples.py            # every page
    python docs/update_examples.py README.md  # some pages
    python docs/update_examples.py --check    # only report the examples that differ (exit 1)

An output that still matches its page is left alone (so its ``...`` stay). Otherwise the new output
is written, keeping the page's ``...`` lines wherever they still match (the page's lines are
aligned with the new ones by difflib), timings written as ``... s``; the script says which examples
lost a ``...`` so that it can be put back by hand.
"""

import contextlib
import difflib
import doctest
import io
import os
import re
import shlex
import sys
import tempfile
from dataclasses import dataclass

__all__ = ["ROOT", "Example", "pages", "examples", "run", "matches", "refresh", "main"]

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

_FENCE = re.compile(r"^(\s*)(```+|~~~+)")
#: output that varies from run to run: written as ``...`` by :func:`refresh`
_VARIABLE = [(re.compile(r"\b\d+(\.\d+)? s\b"), "... s")]


@dataclass
class Example:
    """One fenced block with ``$ nrmt`` commands.

    Attributes
    ----------
    page : str
        Path relative to the repository root.
    line : int
        1-based line number of the block's first line (its fence).
    start, stop : int
        0-based indices of the block's content lines in the page (``lines[start:stop]``).
    commands : list of (str, list of str)
        Each command (without ``$``) with the output lines the page shows.
    """

    page: str
    line: int
    start: int
    stop: int
    commands: list

    @property
    def id(self):
        return f"{self.page}:{self.line}"


def pages(root=ROOT):
    """README.md and every Markdown page under docs/, sorted."""
    out = [os.path.join(root, "README.md")]
    for folder, dirs, files in os.walk(os.path.join(root, "docs")):
        dirs.sort()
        out += [os.path.join(folder, n) for n in sorted(files) if n.endswith(".md")]
    return [p for p in out if os.path.isfile(p)]


def _blocks(lines):
    """(start, stop, indent) of the content of every fenced block."""
    i, out = 0, []
    while i < len(lines):
        m = _FENCE.match(lines[i])
        if not m:
            i += 1
            continue
        indent, fence = m.group(1), m.group(2)
        j = i + 1
        while j < len(lines) and not lines[j].strip().startswith(fence[0] * len(fence)):
            j += 1
        out.append((i + 1, j, indent))
        i = j + 1
    return out


def _parse(lines, start, stop, indent):
    commands = []
    for raw in lines[start:stop]:
        line = raw[len(indent):] if raw.startswith(indent) else raw.lstrip()
        if line.startswith("$ "):
            commands.append((line[2:].strip(), []))
        elif commands:
            commands[-1][1].append(line.rstrip())
    for _, out in commands:
        while out and not out[-1]:
            out.pop()
    return commands


def examples(paths=None, root=ROOT):
    """Every console example of the given pages (default: :func:`pages`)."""
    out = []
    for path in paths or pages(root):
        with open(path, encoding="utf-8") as fh:
            lines = fh.read().split("\n")
        for start, stop, indent in _blocks(lines):
            commands = _parse(lines, start, stop, indent)
            if any(cmd.split()[:1] == ["nrmt"] for cmd, _ in commands):
                out.append(Example(os.path.relpath(path, root), start, start, stop, commands))
    return out


def run(command, cwd=None):
    """Run one ``nrmt ...`` command in this process; return (exit code, output lines).

    Standard output and standard error go to one buffer, in the order they are written (as a
    terminal shows them). Files the command writes land in ``cwd`` (default: a temporary folder).
    """
    from nrmt.cli import main

    argv = shlex.split(command, comments=True)
    if not argv or argv[0] != "nrmt":
        raise ValueError(f"only nrmt commands are run, got {command!r}")
    buf = io.StringIO()
    with contextlib.ExitStack() as stack:
        if cwd is None:
            cwd = stack.enter_context(tempfile.TemporaryDirectory())
        old = os.getcwd()
        os.chdir(cwd)
        stack.callback(os.chdir, old)
        stack.enter_context(contextlib.redirect_stdout(buf))
        stack.enter_context(contextlib.redirect_stderr(buf))
        try:
            code = main(argv[1:])
        except SystemExit as exc:                    # argparse: usage errors and --help
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 2)
    lines = [line.rstrip() for line in buf.getvalue().split("\n")]
    while lines and not lines[-1]:
        lines.pop()
    return code, lines


def matches(expected, got):
    """Do the output lines ``got`` match the page's ``expected`` (exact; ``...`` = any text)?"""
    want = "\n".join(line.rstrip() for line in expected) + "\n"
    have = "\n".join(line.rstrip() for line in got) + "\n"
    return doctest.OutputChecker().check_output(want, have, doctest.ELLIPSIS)


def expected_code(expected):
    """The exit code an example must have: 2 when its output shows an error, else 0."""
    return 2 if any("error:" in line for line in expected) else 0


def _keep_markers(old, new):
    """The new output with the page's ``...`` lines kept where they still match (difflib
    alignment of the page's lines with the new ones); None when that does not match."""
    out = []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, old, new, autojunk=False).get_opcodes():
        olds, news = old[i1:i2], new[j1:j2]
        if tag == "equal" or (tag == "replace" and matches(olds, news)):
            out += olds
        elif tag == "replace" and len(olds) == len(news):
            out += [o if "..." in o and matches([o], [n]) else n for o, n in zip(olds, news)]
        elif tag in ("replace", "insert"):
            out += news
        else:                                        # "delete": a "..." that now stands for nothing
            out += [o for o in olds if o.strip() == "..."]
    return out if matches(out, new) else None


def _merge(old, new):
    """New output lines, keeping the page's ``...`` where they still match; timings as ``...``."""
    out = _keep_markers(old, new) if any("..." in line for line in old) else None
    if out is None:
        out = list(new)
    for i, line in enumerate(out):
        if "..." not in line:
            for pattern, repl in _VARIABLE:
                line = pattern.sub(repl, line)
            out[i] = line
    return out


def refresh(paths=None, check=False, log=print):
    """Run every example of ``paths``; rewrite the outputs that differ (unless ``check``).

    Returns the ids of the examples that differed.
    """
    changed = []
    for path in paths or pages():
        full = os.path.join(ROOT, path) if not os.path.isabs(path) else path
        before = len(changed)
        found = examples([full])
        if not found:
            continue
        with open(full, encoding="utf-8") as fh:
            lines = fh.read().split("\n")
        for ex in reversed(found):                   # bottom up: line numbers stay valid
            indent = _FENCE.match(lines[ex.start - 1]).group(1)
            body, differs = [], False
            with tempfile.TemporaryDirectory() as cwd:   # one folder per block, like the tests
                for cmd, expected in ex.commands:
                    code, got = run(cmd, cwd)
                    ok = matches(expected, got) and code == expected_code(got)
                    if not ok:
                        differs = True
                        new = _merge(expected, got)
                        lost = any("..." in e for e in expected) and not any("..." in n for n in new)
                        log(f"{ex.id}: `{cmd}` (exit {code}) changed"
                            + ("; its '...' were lost, put them back by hand" if lost else ""))
                        if code != expected_code(got):
                            log(f"{ex.id}: `{cmd}` exited with {code}")
                    else:
                        new = expected
                    body.append(f"{indent}$ {cmd}")
                    body += [f"{indent}{line}" if line else "" for line in new]
            if differs:
                changed.append(ex.id)
                if not check:
                    lines[ex.start:ex.stop] = body
        if len(changed) > before and not check:
            with open(full, "w", encoding="utf-8") as fh:
                fh.write("\n".join(lines))
    return changed


def main(argv=None):
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("pages", nargs="*", help="Markdown files (default: README.md and docs/**/*.md)")
    parser.add_argument("--check", action="store_true", help="report the examples that differ, change nothing")
    args = parser.parse_args(argv)
    for var in ("OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "OMP_NUM_THREADS"):
        os.environ.setdefault(var, "1")
    import matplotlib

    matplotlib.use("Agg")
    paths = [os.path.abspath(p) for p in args.pages] or None
    changed = refresh(paths, check=args.check)
    print(f"{len(changed)} example(s) {'differ' if args.check else 'updated'}"
          + (": " + ", ".join(changed) if changed else ""), file=sys.stderr)
    return 1 if changed and args.check else 0


if __name__ == "__main__":
    sys.exit(main())
