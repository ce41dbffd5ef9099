"""Add new letters to a stored analysis without running it again (``analyze
--incremental``).

A full analysis looks at every pair of letters that might share a passage, so its cost
grows with the whole corpus: adding 1,000 letters to a million means a million-letter
run. This module instead takes only the letters stored since the last analysis:

1. Each family's template, and each letter in no family, is sketched as the engine
   sketches a letter, and its LSH bucket keys are kept in the database (tables
   ``template_bands`` and ``lone_bands``). This index is made once per analysis, the
   first time it is needed, and kept up to date as letters are added.
2. A new letter's chunks look up the templates that share a bucket; the letter is
   aligned with those (at most ``_FAMILIES``, most shared buckets first) and joins the
   one it links to best, by the same test a family's own members pass, with its diff
   against that family's template. The template itself is kept as it was.
3. The new letters that joined no family look up the letters in no family that share a
   bucket (at most ``_LONE`` each), and are analysed with them as a full analysis would
   analyse them; the families with a new letter in them are added. (So a campaign whose
   letters come one per batch still makes a family.)

All of it is written in one transaction. It is not the same as a full analysis: two
stored families are never merged, a letter stays in its family, and no template is
rebuilt from its new members. A plain ``analyze`` (without ``--incremental``) runs the
full analysis again, so the families are exactly what the letters give, in any order.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Sequence

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
from formletter.models import Family, IncrementalResult, LetterDiff, Template
from formletter.normalize import tokenize
from formletter.store import Store

__all__ = ["add_new_letters"]

#: templates a new letter is aligned with at most (those sharing most buckets)
_FAMILIES = 8
#: letters in no family a new letter left alone is analysed with at most
_LONE = 8
#: new letters matched per worker job
_PER_JOB = 200
#: bodies sketched per job when the index is made
_SKETCH_BATCH = 500

Progress = Callable[[str, int, "int | None"], None]
Keys = tuple[npt.NDArray[np.uint64], npt.NDArray[np.int64]]


def _quiet(stage: str, done: int, total: int | None) -> None:
    return None


def _sketch_keys(spans: Sequence[tuple[str, int, int]], params: LSHParams, mapper: Mapper) -> Keys:
    """Every LSH bucket key of these bodies (``(text, start, end)``, sketched as the
    engine sketches a letter, on ``mapper``'s workers), with the index of the body each
    belongs to."""
    jobs = [
        (list(spans[lo : lo + _SKETCH_BATCH]), params.num_perm)
        for lo in range(0, len(spans), _SKETCH_BATCH)
    ]
    keys: list[npt.NDArray[np.uint64]] = []
    owners: list[npt.NDArray[np.int64]] = []
    results = mapper(tokenize_sketch_batch, jobs) if jobs else []
    for lo, got in zip(range(0, len(spans), _SKETCH_BATCH), results, strict=True):
        assert isinstance(got, tuple)
        sketch = got[1]
        k = band_keys(sketch.signatures, params)
        keys.append(k.ravel())
        owners.append(np.repeat(sketch.owner + lo, k.shape[1]))
    if not keys:
        return np.empty(0, dtype=np.uint64), np.empty(0, dtype=np.int64)
    return np.concatenate(keys), np.concatenate(owners)


def _of(
    keys: Keys, wanted: Iterable[int], ids: Sequence[str]
) -> tuple[npt.NDArray[np.uint64], npt.NDArray[np.int64], Sequence[str]]:
    """The keys of the bodies ``wanted`` (indices), each named by ``ids[index]``."""
    mask = np.isin(keys[1], np.fromiter(wanted, dtype=np.int64))
    return keys[0][mask], keys[1][mask], ids


def _best(hits: dict[int, dict[str, int]], n: int) -> dict[int, list[str]]:
    """Each owner's ``n`` ids that share most keys (ties: the lowest id)."""
    return {
        i: [f for f, _ in sorted(got.items(), key=lambda kv: (-kv[1], kv[0]))[:n]]
        for i, got in hits.items()
    }


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


def _ensure_index(
    store: Store, params: LSHParams, digest: str, since: int, mapper: Mapper, say: Progress
) -> None:
    """Make the index of the stored analysis (templates, letters in no family up to
    rowid ``since``) unless it is there already."""
    if store.setting("template_index") == digest:
        return
    templates = store.template_texts()
    say("index", 0, None)
    tkeys = _sketch_keys([(t, 0, len(t)) for _, t in templates], params, mapper)
    done = len(templates)
    say("index", done, None)
    # the letters in no family a page at a time: only their keys are kept
    keys: list[npt.NDArray[np.uint64]] = []
    owners: list[npt.NDArray[np.int64]] = []
    ids: list[str] = []
    after = 0
    while page := store.lone_letters(since, after=after):
        got = _sketch_keys([(t, s, e) for _, (_, t, s, e, _) in page], params, mapper)
        keys.append(got[0])
        owners.append(got[1] + len(ids))
        ids.extend(record[0] for _, record in page)
        after = page[-1][0]
        done += len(page)
        say("index", done, None)
    lone = (
        (np.concatenate(keys), np.concatenate(owners), ids)
        if keys
        else (np.empty(0, dtype=np.uint64), np.empty(0, dtype=np.int64), ids)
    )
    store.write_index((*tkeys, [fid for fid, _ in templates]), lone, of=digest)
    say("index", done, done)


def _join(
    store: Store,
    records: Sequence[BodyRecord],
    keys: Keys,
    params: AlignParams,
    mapper: Mapper,
    say: Progress,
) -> list[LetterDiff]:
    """Stage 2: the diffs of the new letters that join a stored family."""
    wanted = _best(store.template_hits(*keys), _FAMILIES)
    order = sorted(wanted)
    jobs = []
    for lo in range(0, len(order), _PER_JOB):
        part = order[lo : lo + _PER_JOB]
        fids = sorted({f for i in part for f in wanted[i]})
        templates = {f: store.template(f) for f in fids}
        jobs.append(([(records[i], wanted[i]) for i in part], templates, params))
    say("verify", 0, len(order))
    joined: list[LetterDiff] = []
    done = 0
    for got in mapper(_join_job, jobs):
        assert isinstance(got, list)
        joined.extend(d for d in got if d is not None)
        done += len(got)
        say("verify", done, len(order))
    return joined


def _group(
    store: Store,
    rest: Sequence[BodyRecord],
    keys: Keys,
    params: AnalysisParams,
    mapper: Mapper,
) -> tuple[list[Family], list[tuple[str, str, float, float]], list[str]]:
    """Stage 3: the families with a new letter in them, among the new letters of
    ``rest`` and the letters in no family they share buckets with; their membership
    rows, and the older letters in them."""
    near = _best(store.lone_hits(*keys), _LONE)
    older = sorted({lid for got in near.values() for lid in got})
    inputs = [*rest, *(BodyRecord(*r) for r in store.letters_by_id(older))]
    if len(inputs) < 2:
        return [], [], []
    analysis = analyze_bodies(inputs, mapper=mapper, params=params)
    new = {r.letter_id for r in rest}
    families = [f for f in analysis.families if new.intersection(f.members)]
    kept = {f.family_id for f in families}
    rows = [m for m in analysis.memberships if m[1] in kept]
    grouped = sorted({m for f in families for m in f.members} - new)
    return families, rows, grouped


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
    records = [BodyRecord(*r) for r in store.letters_after(int(since))]
    if not records:
        return IncrementalResult(0, 0, 0, 0)
    _ensure_index(store, params.lsh, digest, int(since), mapper, say)

    say("candidates", 0, len(records))
    keys = _sketch_keys([(r.text, r.body_start, r.body_end) for r in records], params.lsh, mapper)
    say("candidates", len(records), len(records))
    joined = _join(store, records, keys, params.align, mapper, say)
    ids = [r.letter_id for r in records]
    matched = {d.letter_id for d in joined}
    rest_at = [i for i, r in enumerate(records) if r.letter_id not in matched]
    rest = [records[i] for i in rest_at]
    rest_keys = _of(keys, rest_at, ids)[:2]
    families, memberships, grouped = _group(store, rest, rest_keys, params, mapper)

    # the index: the new families' templates; the new letters still alone
    in_family = {m for f in families for m in f.members}
    alone = [i for i in rest_at if ids[i] not in in_family]
    named = [(f.family_id, f.template.text) for f in families if f.template is not None]
    fkeys = _sketch_keys([(t, 0, len(t)) for _, t in named], params.lsh, mapper)

    say("store", 0, 1)
    h = hashlib.blake2b(digest_size=16)
    h.update(f"{digest}|{top}".encode())
    for lid in ids:
        h.update(lid.encode())
    store.add_to_analysis(
        joined,
        families,
        memberships,
        (
            (*fkeys, [fid for fid, _ in named]),
            _of(keys, alone, ids),
            grouped,
        ),
        {"analysis_digest": "+" + h.hexdigest(), "analysis_rowid": str(top)},
    )
    say("store", 1, 1)
    new_in_families = len(in_family) - len(grouped)
    return IncrementalResult(len(records), len(joined), new_in_families, len(families))
