"""The command line starts without the training stack: only reproduce (and its module) imports JAX."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from vortexnumba import cli

ROOT = Path(__file__).resolve().parent.parent
HEAVY = ("jax", "equinox", "optax", "torch")

_SCRIPT = textwrap.dedent("""
    import sys
    import numpy as np
    from vortexnumba.cli import main, build_parser
    build_parser()
    for argv in COMMANDS:
        rc = main(argv)
        assert rc == 0, (argv, rc)
    print("heavy:", sorted(m for m in HEAVY if m in sys.modules))
""")


def _run(commands, tmp_path):
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), *sys.path]), "MPLBACKEND": "Agg"}
    script = f"COMMANDS = {commands!r}\nHEAVY = {HEAVY!r}\n" + _SCRIPT
    return subprocess.run([sys.executable, "-c", script], cwd=tmp_path, capture_output=True, text=True,
                          env=env, timeout=600)


def test_parser_and_cipher_commands_do_not_import_jax(tmp_path):
    import numpy as np

    np.save(tmp_path / "x.npy", np.arange(2 * 36, dtype=np.uint8).reshape(2, 6, 6))
    commands = [
        ["keygen", "--shape", "6", "6", "--seed", "1", "-o", "key.json"],
        ["encrypt", "key.json", "x.npy", "-o", "y.npy"],
        ["decrypt", "key.json", "y.npy", "-o", "z.npy"],
        ["show", "key.json", "x.npy", "-o", "grid.png"],
    ]
    r = _run(commands, tmp_path)
    assert r.returncode == 0, r.stderr[-3000:]
    assert r.stdout.strip().splitlines()[-1] == "heavy: []"
    assert (np.load(tmp_path / "z.npy") == np.load(tmp_path / "x.npy")).all()


def test_help_does_not_import_jax_but_reproduce_does(tmp_path):
    for argv, imported in ((["--help"], False), (["reproduce", "--help"], True)):
        script = ("import sys\nfrom vortexnumba.cli import main\n"
                  f"try:\n    main({argv!r})\nexcept SystemExit:\n    pass\n"
                  "print('jax' in sys.modules)")
        env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), *sys.path])}
        r = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, capture_output=True, text=True,
                           env=env, timeout=600)
        assert r.returncode == 0, r.stderr[-3000:]
        assert r.stdout.strip().splitlines()[-1] == str(imported), argv


def _subcommand_help(parser) -> dict[str, str]:
    sub = next(a for a in parser._actions if a.__class__.__name__ == "_SubParsersAction")
    return {a.dest: a.help for a in sub._choices_actions}


def test_lazy_commands_show_their_modules_own_help():
    pytest.importorskip("jax")
    full = _subcommand_help(cli.build_parser("all"))
    light = _subcommand_help(cli.build_parser("keygen"))
    assert light.keys() == full.keys()
    for names in cli.LAZY_COMMANDS.values():
        for name, help_line in names.items():
            assert full[name] == help_line


def test_command_in():
    assert cli.command_in(["--version"]) is None
    assert cli.command_in(["-h"]) is None
    assert cli.command_in(["reproduce", "--epochs", "1"]) == "reproduce"


def test_every_help_text_reads_as_printed():
    # argparse formats %-escapes in help strings but prints descriptions verbatim, so a "%%" written
    # into a description reaches the reader as "%%"
    pytest.importorskip("jax")
    parser = cli.build_parser("all")
    actions = [a for a in parser._actions if a.choices and isinstance(a.choices, dict)]
    texts = {name: sub.format_help() for a in actions for name, sub in a.choices.items()}
    assert texts
    for name, text in texts.items():
        assert "%%" not in text and "%(" not in text, name
