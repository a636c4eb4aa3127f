"""mkdocs hooks: the CLI reference and the gallery are made from nrmt itself at build time.

* ``docs/cli.md`` contains the marker ``<!-- nrmt:cli-reference -->``; it is replaced by the help of
  every sub-command, taken from :func:`nrmt.cli.build_parser`, so the reference never drifts from
  the code.
* The API reference (mkdocstrings/griffe) reads the sources statically. nrmt is one package assembled
  from three folders (``nrmt/``, ``theory/`` → ``nrmt.theory``, ``numerics/`` → ``nrmt.numerics``,
  setuptools ``package-dir``), which griffe cannot follow through an editable install; so the hook
  builds a temporary tree of symbolic links with the installed layout and points the handler at it.
* ``docs/gallery.md`` shows figures ``gallery/*.png`` that :mod:`docs.gallery` draws with nrmt
  (theory from the solvers, Monte Carlo from the samplers) during the build; they are added to the
  site as generated files and never committed.
"""

import argparse
import importlib.util
import os
import sys
import tempfile
import shutil
import time

from mkdocs.plugins import event_priority

#: setuptools package-dir: sub-package of nrmt -> folder at the repository root
PACKAGE_DIRS = {"theory": "theory", "numerics": "numerics"}

CLI_MARKER = "<!-- nrmt:cli-reference -->"
API_MARKER = "<!-- nrmt:api-reference -->"

#: API reference sections: (title, package, folder relative to the repository root)
API_SECTIONS = [
    ("Models", "nrmt.models", "nrmt/models"),
    ("Theory (symbolic)", "nrmt.theory", "theory"),
    ("Equations", "nrmt.theory.equations", "theory/equations"),
    ("Numerics", "nrmt.numerics", "numerics"),
    ("Plotting", "nrmt", "nrmt"),
    ("Sweeps on Dask", "nrmt.sweep", "nrmt/sweep"),
]
_HERE = os.path.dirname(os.path.abspath(__file__))


def _layout_tree(root):
    """Rebuild ``build/docs-api-layout/nrmt``: the installed layout of the package, as symbolic links.

    ``mkdocs.yml`` points the mkdocstrings python handler at ``build/docs-api-layout``.
    """
    base = os.path.join(root, "build", "docs-api-layout")
    pkg = os.path.join(base, "nrmt")
    shutil.rmtree(base, ignore_errors=True)
    os.makedirs(pkg)
    for entry in os.listdir(os.path.join(root, "nrmt")):
        if entry not in PACKAGE_DIRS and entry != "__pycache__":
            os.symlink(os.path.join(root, "nrmt", entry), os.path.join(pkg, entry))
    for sub, folder in PACKAGE_DIRS.items():
        os.symlink(os.path.join(root, folder), os.path.join(pkg, sub))
    return base


@event_priority(100)  # before mkdocstrings reads its handler paths
def on_config(config):
    _layout_tree(os.path.dirname(os.path.abspath(config.config_file_path)))
    return config


def _subparsers(parser):
    for action in parser._actions:  # argparse offers no public accessor for sub-parsers
        if isinstance(action, argparse._SubParsersAction):
            return action.choices
    return {}


def cli_reference():
    """Markdown for every ``nrmt`` sub-command: its description and its full ``--help``."""
    from nrmt.cli import build_parser

    parser = build_parser()
    parser.prog = "nrmt"
    out = ["```text", parser.format_help().rstrip(), "```", ""]
    subs = _subparsers(parser)
    for name, sub in subs.items():
        sub.prog = f"nrmt {name}"
        out += [f"## `nrmt {name}`", ""]
        if sub.description:
            out += [sub.description.strip(), ""]
        out += ["```text", sub.format_help().rstrip(), "```", ""]
    return "\n".join(out)


def api_reference(root):
    """Markdown with one ``:::`` mkdocstrings directive per public module, found on disk.

    Every module of the package is listed (a new module appears without editing the page), except
    private ones (``_name``), the command line (documented on the CLI page) and ``__main__``.
    """
    out = []
    for title, package, folder in API_SECTIONS:
        path = os.path.join(root, folder)
        names = sorted(
            n[:-3] for n in os.listdir(path)
            if n.endswith(".py") and not n.startswith("_")
        )
        if not names:
            continue
        out += [f"## {title}", ""]
        for name in names:
            out += [f"::: {package}.{name}", "    options:", "      heading_level: 3", ""]
    return "\n".join(out)


def on_page_markdown(markdown, page, config, files):
    if CLI_MARKER in markdown:
        markdown = markdown.replace(CLI_MARKER, cli_reference())
    if API_MARKER in markdown:
        root = os.path.dirname(os.path.abspath(config.config_file_path))
        markdown = markdown.replace(API_MARKER, api_reference(root))
    return markdown


def _load_gallery():
    spec = importlib.util.spec_from_file_location("nrmt_docs_gallery", os.path.join(_HERE, "gallery.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def on_files(files, config):
    """Draw the gallery figures and add them to the site as generated files."""
    from mkdocs.structure.files import File

    if os.environ.get("NRMT_DOCS_SKIP_GALLERY"):  # quick local previews only; CI draws it
        print("nrmt docs: gallery skipped (NRMT_DOCS_SKIP_GALLERY is set)", file=sys.stderr)
        return files
    gallery = _load_gallery()
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        for name, path in gallery.make_all(tmp):
            with open(path, "rb") as fh:
                files.append(File.generated(config, f"gallery/{name}", content=fh.read()))
    print(f"nrmt docs: gallery drawn in {time.perf_counter() - t0:.1f} s", file=sys.stderr)
    return files
