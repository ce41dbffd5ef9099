"""A synthetic, labelled corpus of MP letters for testing and scoring formletter.

``generate(out_dir, letters=N, seed=S)`` writes ``letters/NNNNN.txt``, ``truth.jsonl``
(family, inserted spans, sender, date ... per letter) and ``register.csv`` (the senders
used). The same seed gives the same bytes.
"""

from __future__ import annotations

from formletter.synth._generate import SynthSummary, generate

__all__ = ["SynthSummary", "generate"]
