"""The ``vortexnumba`` command line.

Each subcommand lives in its own ``cli/_<name>.py`` module that exposes
``register(subparsers)``; this module only collects them and turns the
library's errors into one-line messages with a non-zero exit status.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from .. import __version__

# One module per group of subcommands; each registers its own parsers.
COMMAND_MODULES = (
    "vortexnumba.cli._cipher",
    "vortexnumba.cli._info",
    "vortexnumba.cli._audit",
    "vortexnumba.cli._train",
    "vortexnumba.cli._verify",
    "vortexnumba.cli._benchmark",
)

# Modules whose parsers import the training stack (JAX, Equinox, Optax) are loaded only
# when one of their commands runs (or shows its own help); every other command line
# lists them by name and one-line help, kept equal to the module's own help by the tests.
LAZY_COMMANDS = {
    "vortexnumba.cli._train": {
        "reproduce": "train networks on original and encrypted images and relate accuracy to information loss",
        "download": "fetch a data set's official files into the cache and verify their SHA-256",
    },
}

EXIT_USAGE = 2
EXIT_ERROR = 1


# The library speaks Python in its messages; on the command line these are flags.
_PYTHON_TO_FLAGS = (
    ("force=True", "--force"),
    ("channels=True", "--channels"),
    ("channels=False", "--no-channels"),
)


def to_cli_words(message: str) -> str:
    """A library message with its Python keyword arguments replaced by the matching flags."""
    for python, flag in _PYTHON_TO_FLAGS:
        message = message.replace(python, flag)
    return " ".join(message.splitlines())


def command_in(argv: Sequence[str]) -> str | None:
    """The subcommand an argument list runs: its first word that is not an option."""
    for arg in argv:
        if not arg.startswith("-"):
            return arg
    return None


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The ``vortexnumba`` parser, with full parsers for ``command``'s module.

    The modules of :data:`LAZY_COMMANDS` are imported only when ``command`` is one
    of theirs; otherwise their commands appear by name and help only, so that
    ``vortexnumba --help`` and the cipher commands never import JAX.
    ``command="all"`` builds every parser.

    Examples
    --------
    >>> from vortexnumba.cli import build_parser
    >>> build_parser().parse_args(["keygen", "--shape", "4", "4", "-o", "k.json"]).command
    'keygen'
    """
    parser = argparse.ArgumentParser(
        prog="vortexnumba",
        description=(
            "Neighbour information of images, the Random Vortex Transformation, "
            "and training networks on encrypted arrays."
        ),
    )
    parser.add_argument("--version", action="version", version=f"vortexnumba {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module_name in COMMAND_MODULES:
        lazy = LAZY_COMMANDS.get(module_name)
        if lazy is None or command == "all" or command in lazy:
            importlib.import_module(module_name).register(sub)
        else:
            for name, help_line in lazy.items():
                sub.add_parser(name, help=help_line, add_help=False)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser(command_in(argv))
    args = parser.parse_args(argv)
    if getattr(args, "func", None) is None:
        parser.print_help()
        return EXIT_USAGE
    try:
        return int(args.func(args) or 0)
    except MemoryError:
        # e.g. a file header or key that declares an enormous array
        print(f"vortexnumba {args.command}: error: not enough memory (does an input declare a huge shape?)",
              file=sys.stderr)
        return EXIT_ERROR
    except (ValueError, TypeError, OSError, KeyError, ImportError) as exc:
        # File readers (vortexnumba.io._files.read_npy/read_npz, the data loaders) turn corrupt input into ValueError.
        msg = exc.args[0] if isinstance(exc, KeyError) and exc.args else exc
        if isinstance(exc, OSError) and exc.strerror and exc.filename and not exc.args[1:] == ():
            msg = f"{exc.filename}: {exc.strerror}"
        print(f"vortexnumba {args.command}: error: {to_cli_words(str(msg))}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print("vortexnumba: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
