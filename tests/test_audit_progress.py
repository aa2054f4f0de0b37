"""audit reports its progress through the package's one progress bar, and only when asked."""

from __future__ import annotations

import vortexnumba as vn


def _audit(progress):
    images = vn.data.load("digits")[2][:20]
    key = vn.PermutationKey.random((8, 8), seed=0)
    return vn.security.audit(images, key, key_space_samples=16, sensitivity_images=4, progress=progress)


def test_audit_shows_a_bar_when_asked(capsys):
    quiet = _audit(False)
    assert capsys.readouterr().err == ""
    loud = _audit(True)
    err = capsys.readouterr().err
    assert "audit" in err and "step" in err and "4+" not in err
    assert "/7" in err  # 4 images, 1 key change, known plaintext, key space
    assert quiet["plaintext_npcr"] == loud["plaintext_npcr"]
