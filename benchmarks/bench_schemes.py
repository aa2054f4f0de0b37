"""The field's benchmark: every encryption scheme trained, attacked and measured on the same data.

Run:  .venv/bin/python benchmarks/bench_schemes.py [--quick] [flags of ``vortexnumba benchmark``]

Without ``--quick`` this is ``vortexnumba benchmark`` itself (default
Fashion-MNIST, every scheme; see ``vortexnumba benchmark --help``): for every
scheme the accuracy drop of the CNN and of the scheme's own model, the
information loss, the ciphertext-only attack's SSIM from 1,000 and 10,000
ciphertexts on 1,000 held-out test images, the known-plaintext pairs for 90 %
of the key and the chosen plaintexts; written to ``--out`` as results.json,
results.md and frontier.png.

``--quick`` (what CI runs): the embedded 8x8 digits, one epoch on 300 images,
attacks from 100 and 300 ciphertexts scored on 50 test images, every scheme,
into a temporary folder (or ``--out``); prints results.md. It checks that
every part runs, not what the numbers are.

The full run is hours on a 2-core CPU; the reduced run committed in
``docs/results/field/`` says its settings in its results.md.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

QUICK = ["--dataset", "digits", "--epochs", "1", "--train-limit", "300", "--test-limit", "100",
         "--info-loss-limit", "10", "--attack-sizes", "100,300", "--attack-test", "50",
         "--known-plaintext-limit", "100", "--vit", "vit-tiny", "--no-progress"]


def main(argv=None) -> int:
    from vortexnumba.cli import main as cli

    argv = list(sys.argv[1:] if argv is None else argv)
    if "--quick" not in argv:
        return cli(["benchmark", *argv])
    argv.remove("--quick")
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "field"
        if "--out" in argv:
            out = Path(argv[argv.index("--out") + 1])
        else:
            argv += ["--out", str(out)]
        rc = cli(["benchmark", *QUICK, *argv])
        if rc == 0:
            print((out / "results.md").read_text())
        return rc


if __name__ == "__main__":
    sys.exit(main())
