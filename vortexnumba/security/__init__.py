"""How much a fixed spatial map hides: the standard cipher metrics and the known-plaintext attack.

The spatial keys of vortexnumba (vortex, permutation, block) move pixels and
never change a value; the field's learnable encryptions (LE, ELE, EtC, PE,
block-wise) also negate values or move parts of pixels, so they change the
histogram and spread a one-pixel change. This module measures what that does and does not protect, in
the terms image-encryption papers use:

- :func:`adjacent_correlation` -- correlation of horizontally, vertically and
  diagonally adjacent pixels over a data set (high for natural images; a good
  cipher brings it near 0).
- :func:`histogram`, :func:`shannon_entropy` -- the value histogram and its
  entropy. A permutation of the pixels keeps the multiset of values, hence the
  histogram of every image exactly, hence its entropy: no pixel-moving cipher
  can flatten a histogram.
- :func:`npcr_uaci`, :func:`plaintext_sensitivity`, :func:`key_sensitivity` --
  NPCR and UACI between two cipher images: of two plain images that differ in
  one pixel (diffusion), and of one image under two keys that differ in one
  parameter (key sensitivity). A map that only moves pixels changes exactly
  one output pixel when one input pixel changes, so its plaintext NPCR is
  ``100 / N`` percent.
- :func:`key_space` -- the number of distinct index maps a key kind can stand
  for, in bits (exact for permutation, block and the value-changing keys, a
  sampled estimate for vortex keys).
- :func:`recover_index`, :func:`chosen_plaintext`, :func:`pairs_to_recover` --
  the known- and chosen-plaintext attacks on any fixed gather map;
  :func:`recover_plan`, :func:`chosen_plaintext_plan`,
  :func:`plan_pairs_to_recover` -- the same for the keys that change values
  (LE, ELE, EtC, PE, block-wise): their element or nibble gather and its
  negation mask.
- :func:`ciphertext_only_attack`, :func:`attack_quality`, :func:`family_for`
  -- what a party that holds only ciphertexts (and knows the algorithm)
  recovers: a vortex-aware attack that peels the vortices, a pixel attack
  for any fixed permutation (the grid's topology from partial correlations
  across the data set), a jigsaw solver for block scrambling, and attacks
  on LE, block-wise, EtC and PE keys (:mod:`._scheme_attacks`).
- :func:`audit`, :func:`audit_figure` -- all of the above for one key on a
  set of images, as a dict and as a figure (``vortexnumba audit``).

The attacks' inner loops are Numba kernels; the rest is vectorised NumPy.

References
----------
.. [1] Y. Wu, J. P. Noonan, S. Agaian, "NPCR and UACI randomness tests for
   image encryption", Cyber Journals: JSAT, April 2011, pp. 31-38.
.. [2] G. Chen, Y. Mao, C. K. Chui, "A symmetric image encryption scheme based
   on 3D chaotic cat maps", Chaos, Solitons & Fractals 21 (2004) 749-761
   (adjacent-pixel correlation, histogram and key-sensitivity tests).
.. [3] C. E. Shannon, "A mathematical theory of communication", Bell System
   Technical Journal 27 (1948) 379-423.
"""


from ._audit import audit, audit_figure
from ._ciphertext_only import AttackResult, attack_quality, ciphertext_only_attack, family_for
from ._common import DIRECTIONS
from ._keyspace import KeySpace, key_space
from ._known_plaintext import (
                               chosen_plaintext,
                               chosen_plaintext_plan,
                               pairs_to_recover,
                               plan_pairs_to_recover,
                               recover_index,
                               recover_plan,
)
from ._metrics import adjacent_correlation, adjacent_pairs, histogram, npcr_uaci, shannon_entropy
from ._sensitivity import key_sensitivity, perturb_key, plaintext_sensitivity

__all__ = [
    "AttackResult",
    "DIRECTIONS",
    "KeySpace",
    "adjacent_correlation",
    "adjacent_pairs",
    "attack_quality",
    "audit",
    "audit_figure",
    "chosen_plaintext",
    "chosen_plaintext_plan",
    "family_for",
    "ciphertext_only_attack",
    "histogram",
    "key_sensitivity",
    "key_space",
    "npcr_uaci",
    "pairs_to_recover",
    "perturb_key",
    "plan_pairs_to_recover",
    "plaintext_sensitivity",
    "recover_index",
    "recover_plan",
    "shannon_entropy",
]
