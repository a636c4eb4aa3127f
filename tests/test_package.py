"""The package is one installable `nrmt` with nrmt.theory and nrmt.numerics, and the CLI lists its commands."""

import subprocess
import sys

import pytest

import nrmt
from nrmt.cli import COMMANDS, build_parser, main

#: Sub-commands the issues name as contracts (scripts and other tools call them).
CONTRACT_COMMANDS = {"constants", "density", "verify", "jacobian", "criticality", "isospectral", "table"}


def test_subpackages_are_part_of_nrmt():
    import nrmt.numerics
    import nrmt.theory

    assert nrmt.theory.__name__ == "nrmt.theory"
    assert nrmt.numerics.__name__ == "nrmt.numerics"
    assert isinstance(nrmt.__version__, str) and nrmt.__version__


def test_every_contract_command_is_registered():
    assert CONTRACT_COMMANDS <= set(COMMANDS)
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    assert CONTRACT_COMMANDS <= set(sub.choices)


def test_version_flag(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["--version"])
    assert exc.value.code == 0
    assert nrmt.__version__ in capsys.readouterr().out


def test_unknown_command_exits_2():
    with pytest.raises(SystemExit) as exc:
        main(["no-such-command"])
    assert exc.value.code == 2


def test_console_script_runs_as_module():
    out = subprocess.run([sys.executable, "-m", "nrmt", "--help"], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    for name in CONTRACT_COMMANDS:
        assert name in out.stdout


def test_public_surface_resolves():
    for name in nrmt.__all__:
        assert getattr(nrmt, name) is not None, name
    with pytest.raises(AttributeError):
        nrmt.no_such_name  # noqa: B018


def test_usage_errors_are_one_line(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["constants", "tanh", "--dps", "0"])
    assert exc.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("nrmt constants: error:") and "--dps" in err[0]
