"""Add new letters to a stored analysis without running it again (``analyze
--incremental``).

A full analysis looks at every pair of letters that might share a passage, so its cost
grows with the whole corpus: adding 1,000 letters to a million means a million-letter
run. This module instead takes only the letters stored since the last analysis:

1. Each family's template is sketched as the engine sketches a letter, and its LSH
   bucket keys are kept in the database (table ``template_bands``). The index is made
   once per analysis, the first time it is needed, and grows with the families added.
2. A new letter's chunks look up the templates that share a bucket; the letter is
   aligned with those (at most ``_FAMILIES``, most shared buckets first) and joins the
   one it links to best, by the same test a family's own members pass, with its diff
   against that family's template. The template itself is kept as it was.
3. The new letters that joined no family are analysed among themselves, as a full
   analysis would analyse them; their families are added.

All of it is written in one transaction. It is not the same as a full analysis: a new
letter is never grouped with an older letter that is in no family, two stored families
are never merged, and no template is rebuilt from its new members. A plain ``analyze``
(without ``--incremental``) runs the full analysis again, so the families are exactly
what the letters give, in any order.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence

import numpy as np
import numpy.typing as npt

from formletter.align import AlignParams, is_link, verify
from formletter.candidates import LSHParams, band_keys
from formletter.diff import diff_letter, template_tokens
from formletter.engine import (
    AnalysisParams,
    BodyRecord,
    Mapper,
    analyze_bodies,
    tokenize_sketch_batch,
)
from formletter.models import IncrementalResult, LetterDiff, Template
from formletter.normalize import tokenize
from formletter.store import Store

__all__ = ["add_new_letters"]

#: templates a new letter is aligned with at most (those sharing most buckets)
_FAMILIES = 8
#: new letters matched per worker job
_PER_JOB = 200
#: templates sketched per batch when the index is made
_SKETCH_BATCH = 500

Progress = Callable[[str, int, "int | None"], None]


def _quiet(stage: str, done: int, total: int | None) -> None:
    return None


def _template_keys(
    texts: Sequence[str], params: LSHParams
) -> tuple[npt.NDArray[np.uint64], npt.NDArray[np.int64]]:
    """Every LSH bucket key of these texts (sketched whole, as bodies), with the index
    of the text each belongs to."""
    keys: list[npt.NDArray[np.uint64]] = []
    owners: list[npt.NDArray[np.int64]] = []
    for lo in range(0, len(texts), _SKETCH_BATCH):
        part = texts[lo : lo + _SKETCH_BATCH]
        _, sketch = tokenize_sketch_batch(([(t, 0, len(t)) for t in part], params.num_perm))
        got = band_keys(sketch.signatures, params)
        keys.append(got.ravel())
        owners.append(np.repeat(sketch.owner + lo, got.shape[1]))
    if not keys:
        return np.empty(0, dtype=np.uint64), np.empty(0, dtype=np.int64)
    return np.concatenate(keys), np.concatenate(owners)


def _join_job(
    job: tuple[Sequence[tuple[BodyRecord, Sequence[str]]], dict[str, Template], AlignParams],
) -> list[LetterDiff | None]:
    """For each letter with its candidate families (best first), its diff against the
    template it links to best (ties: the first), or None: a worker's part."""
    items, templates, params = job
    tokens_of = {fid: template_tokens(t) for fid, t in templates.items()}
    out: list[LetterDiff | None] = []
    for record, fids in items:
        toks = tokenize(record.text, record.body_start, record.body_end)
        best: tuple[float, str] | None = None
        for fid in fids:
            link = verify(
                record.letter_id, toks, fid, tokens_of[fid].tokens, params, with_passages=False
            )
            if is_link(link, params) and (best is None or link.score > best[0]):
                best = (link.score, fid)
        if best is None:
            out.append(None)
            continue
        fid = best[1]
        out.append(
            diff_letter(
                templates[fid],
                record.letter_id,
                record.text,
                record.body_start,
                record.body_end,
                ttoks=tokens_of[fid],
                ltoks=toks,
            )
        )
    return out


def _ensure_index(store: Store, params: LSHParams, digest: str, say: Progress) -> None:
    """Make the template index of the stored analysis unless it is there already."""
    if store.setting("template_index") == digest:
        return
    rows = store.template_texts()
    say("index", 0, len(rows))
    keys, owner = _template_keys([t for _, t in rows], params)
    store.write_template_index(keys, [rows[i][0] for i in owner.tolist()], of=digest)
    say("index", len(rows), len(rows))


def add_new_letters(
    store: Store,
    params: AnalysisParams,
    *,
    key: str,
    mapper: Mapper,
    progress: Progress | None = None,
) -> IncrementalResult | None:
    """Add the letters stored since the last analysis to it (see the module docstring).

    ``key`` names what an analysis is run with (engine, parameters, anatomy); when the
    stored analysis was run with another, or there is none, nothing is done and None is
    returned: the caller runs the full analysis."""
    say = progress or _quiet
    digest = store.setting("analysis_digest")
    since = store.setting("analysis_rowid")
    if digest is None or since is None or store.setting("analysis_key") != key:
        return None
    top = store.max_letter_rowid()
    rows = store.letters_after(int(since))
    records = [BodyRecord(lid, text, s, e, hints) for lid, text, s, e, hints in rows]
    if not records:
        return IncrementalResult(0, 0, 0, 0)
    _ensure_index(store, params.lsh, digest, say)

    # candidates: the templates that share a bucket with a chunk of the letter
    say("candidates", 0, len(records))
    _, sketch = tokenize_sketch_batch(
        ([(r.text, r.body_start, r.body_end) for r in records], params.lsh.num_perm)
    )
    keys = band_keys(sketch.signatures, params.lsh)
    owner = np.repeat(sketch.owner, keys.shape[1])
    hits = store.template_hits(keys.ravel(), owner)
    say("candidates", len(records), len(records))

    # join: each letter aligned with its candidate templates, on the workers
    wanted = {
        i: [f for f, _ in sorted(got.items(), key=lambda kv: (-kv[1], kv[0]))[:_FAMILIES]]
        for i, got in hits.items()
    }
    order = sorted(wanted)
    jobs = []
    for lo in range(0, len(order), _PER_JOB):
        part = order[lo : lo + _PER_JOB]
        fids = sorted({f for i in part for f in wanted[i]})
        templates = {f: store.template(f) for f in fids}
        jobs.append(([(records[i], wanted[i]) for i in part], templates, params.align))
    say("verify", 0, len(order))
    joined: list[LetterDiff] = []
    matched: set[int] = set()
    done = 0
    for lo, got in zip(range(0, len(order), _PER_JOB), mapper(_join_job, jobs), strict=True):
        assert isinstance(got, list)
        for i, diff in zip(order[lo : lo + _PER_JOB], got, strict=True):
            if diff is not None:
                joined.append(diff)
                matched.add(i)
        done += len(got)
        say("verify", done, len(order))

    # the rest: families among themselves
    rest = [r for i, r in enumerate(records) if i not in matched]
    analysis = analyze_bodies(rest, mapper=mapper, params=params) if len(rest) > 1 else None
    families = analysis.families if analysis else ()
    memberships = analysis.memberships if analysis else ()
    texts = [f.template.text for f in families if f.template is not None]
    fkeys, fowner = _template_keys(texts, params.lsh)
    named = [f.family_id for f in families if f.template is not None]

    say("store", 0, 1)
    h = hashlib.blake2b(digest_size=16)
    h.update(f"{digest}|{top}".encode())
    for r in records:
        h.update(r.letter_id.encode())
    store.add_to_analysis(
        joined,
        families,
        memberships,
        (fkeys, [named[i] for i in fowner.tolist()]),
        {"analysis_digest": "+" + h.hexdigest(), "analysis_rowid": str(top)},
    )
    say("store", 1, 1)
    grouped = sum(len(f.members) for f in families)
    return IncrementalResult(len(records), len(joined), grouped, len(families))
