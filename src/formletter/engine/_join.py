"""Stage 5c of the analysis: letters that loose links tie to a plain component join its
families (``JoinTargets``, ``join_outcome``).

A form letter that its senders *reword* (a word in five replaced, each sender other
words) keeps few runs of three words in a row, so verify links only its best-kept
copies: they make a component of verified links, and the other copies end alone or in
small components around it. The loose stage (``_loose``) links those by their common
subsequence, but its groups were families of their own: one campaign came out as a
family of 75, a loose family of 24 and many letters alone.

So the loose stage also pairs the letters it looks at with a few central members of
each plain component (its *anchors*), and a group that a loose link ties to an anchor
joins that component (``loose_groups``' ``joins``). Its letters are then diffed against
the templates of the families the component's anchors ended in, and each joins the one
it is most like (ties: the lowest family id), its identical copies with it. The
families themselves were written already: the joiners come as a late part of explicit
membership rows and diffs (``FamilyOutcome.diffs``); the templates are kept as they
were.

A loose link, not a diff, is the evidence: letters written from one bank of stock
phrases hold a template by its phrases often enough (20k synthetic letters: 596 of 620
letters that a diff alone would have joined), but they do not link loosely to it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from formletter.engine._types import BodyRecord, DiffMany, FamilyOutcome
from formletter.models import Family, LetterDiff, Template
from formletter.normalize import Tokens

__all__ = ["ANCHORS", "JoinTargets", "join_outcome", "late_part", "with_joins"]

#: central members of each plain component that loose links may reach
ANCHORS = 2


class JoinTargets:
    """The family (id and template) each anchor ended in, from the outcomes as they are
    handed over (``see``); an anchor in no family, or in one without a template, has
    none."""

    def __init__(self, anchors: Mapping[int, Sequence[int]], letter_id: Callable[[int], str]):
        self._anchor_of = {letter_id(a): c for c, letters in anchors.items() for a in letters}
        #: component -> {family id: template} of its anchors' families
        self.families: dict[int, dict[str, Template]] = {}

    def see(self, got: FamilyOutcome) -> None:
        for fam in got.families:
            if fam.template is None:
                continue
            for lid in fam.members:
                c = self._anchor_of.get(lid)
                if c is not None:
                    self.families.setdefault(c, {})[fam.family_id] = fam.template


def join_outcome(
    joins: Mapping[int, int],
    targets: JoinTargets,
    item: Callable[[int], tuple[BodyRecord, Tokens]],
    duplicates: Callable[[int], Sequence[tuple[BodyRecord, Tokens]]],
    diff_many: DiffMany,
) -> tuple[FamilyOutcome, list[int]]:
    """The late part for ``joins`` (letter -> plain component): each letter's diff
    against the best of its component's families' templates, and its identical
    copies' (``duplicates(i)``), with their explicit membership rows. Also returns the
    letters that joined (a letter whose component's anchors are in no family joins
    none)."""
    choices = {i: targets.families.get(c, {}) for i, c in joins.items()}
    return late_part(choices, item, duplicates, diff_many)


def late_part(
    choices: Mapping[int, Mapping[str, Template]],
    item: Callable[[int], tuple[BodyRecord, Tokens]],
    duplicates: Callable[[int], Sequence[tuple[BodyRecord, Tokens]]],
    diff_many: DiffMany,
) -> tuple[FamilyOutcome, list[int]]:
    """The late part for letters that join one of a few families (letter -> {family
    id: template}): each letter's diff against the template it is most like (ties: the
    lowest family id), and its identical copies' (``duplicates(i)``), with their
    explicit membership rows; and the letters that joined (those with a choice)."""
    by_template: dict[str, list[int]] = {}
    templates: dict[str, Template] = {}
    for i, options in sorted(choices.items()):
        for fid, template in sorted(options.items()):
            by_template.setdefault(fid, []).append(i)
            templates[fid] = template
    best: dict[int, tuple[float, str, LetterDiff]] = {}
    for fid, letters in sorted(by_template.items()):
        got = diff_many(templates[fid], [item(i) for i in letters])
        for i, d in zip(letters, got, strict=True):
            assert d is not None  # (no screen)
            # the most alike template; ties: the lowest family id (seen first)
            if i not in best or d.similarity > best[i][0]:
                best[i] = (d.similarity, fid, d)
    diffs: list[LetterDiff] = []
    rows: list[tuple[str, str, float, float]] = []
    for i, (_, fid, d) in sorted(best.items()):
        copies = list(duplicates(i))
        found = [d, *diff_many(templates[fid], copies)] if copies else [d]
        for x in found:
            assert x is not None
            diffs.append(x)
            rows.append((x.letter_id, fid, x.similarity, x.coverage))
    return FamilyOutcome((), tuple(rows), tuple(diffs)), sorted(best)


def with_joins(families: Sequence[Family], joined: FamilyOutcome) -> list[Family]:
    """``families`` with the letters of a late part (``join_outcome``) among their
    members and diffs."""
    by_family: dict[str, list[LetterDiff]] = {}
    for d in joined.diffs:
        by_family.setdefault(d.family_id, []).append(d)
    out = []
    for fam in families:
        more = by_family.get(fam.family_id)
        if more:
            fam = Family(
                fam.family_id,
                (*fam.members, *(d.letter_id for d in more)),
                fam.template,
                (*fam.diffs, *more),
            )
        out.append(fam)
    return out
