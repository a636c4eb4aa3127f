"""A griffe extension for the API reference: doctest blocks become code blocks.

nrmt's docstrings (numpydoc) often show a doctest in the body text rather than in an ``Examples``
section. Markdown would render ``>>> ...`` as a block quote and read an output line such as
``[1, 3, 12, 55]`` as a link reference; this extension wraps every doctest block (``>>>`` and
``...`` lines and the output lines after them, up to a blank line) in a fenced ``pycon`` block
before the docstring is parsed.
"""

import griffe


def fence_doctests(text):
    """Wrap doctest blocks of ``text`` in fenced code blocks (already fenced code is left alone)."""
    out, in_fence, in_doctest = [], False, False
    for line in text.splitlines():
        stripped = line.strip()
        if stripped.startswith("```"):
            in_fence = not in_fence
        if in_fence:
            out.append(line)
            continue
        if not in_doctest and stripped.startswith(">>>"):
            indent = line[: len(line) - len(line.lstrip())]
            out.append(f"{indent}```pycon")
            in_doctest = True
        elif in_doctest and not stripped:
            out.append(f"{indent}```")
            in_doctest = False
        out.append(line)
    if in_doctest:
        out.append(f"{indent}```")
    return "\n".join(out)


class FenceDoctests(griffe.Extension):
    """Apply :func:`fence_doctests` to every docstring as it is loaded."""

    def on_object(self, *, obj, **kwargs):  # griffe >= 1.0
        doc = obj.docstring
        if doc is not None and ">>>" in doc.value:
            doc.value = fence_doctests(doc.value)
