"""The engine's data: what a stage takes and gives, shared by every engine's modules."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np
import numpy.typing as npt

from formletter.align import AlignParams
from formletter.candidates import LSHParams
from formletter.models import Family, LetterDiff, Link, Template
from formletter.normalize import PackedTokens, Tokens, pack_tokens, unpack_tokens

#: garbage-collector thresholds while the engine runs (``_core.few_collections``) and in
#: the local pool's processes
GC_THRESHOLDS = (50_000, 50, 50)

__all__ = [
    "Analysis",
    "AnalysisParams",
    "BodyRecord",
    "ComponentJob",
    "DiffMany",
    "FamilyOutcome",
    "Mapper",
    "Progress",
    "Screen",
    "TextSpans",
]

#: ``mapper(fn, items)`` runs ``fn`` over ``items`` and yields results in order
Mapper = Callable[[Callable[..., object], Sequence[object]], Iterable[object]]
#: ``(params, flags)``: a letter flagged True whose diff does not hold the template (the
#: link test with the template as the other letter, only stretches of ``min_run`` carried
#: words counting on the letter's side: ``_finish._holds``) comes back as None, its diff
#: never built
Screen = tuple[AlignParams, Sequence[bool]]


class DiffMany(Protocol):
    """``diff_many(template, [(record, tokens or None), ...], screen)``: each letter's
    diff, in order (None for a letter the screen drops; tokens are given for those)."""

    def __call__(
        self,
        template: Template,
        items: Sequence[tuple[BodyRecord, Tokens | None]],
        screen: Screen | None = None,
    ) -> list[LetterDiff | None]: ...


Progress = Callable[[str, int, int], None]


@dataclass(frozen=True, slots=True)
class BodyRecord:
    """What the engine needs of one letter."""

    letter_id: str
    text: str
    body_start: int
    body_end: int
    #: anatomy values that may fill template slots
    hints: tuple[tuple[str, str], ...] = ()

    def __reduce__(self) -> tuple[object, ...]:
        # the text travels as UTF-8 bytes that it makes (see ``TextSpans``)
        return (
            _body_record,
            (self.letter_id, _utf8(self.text), self.body_start, self.body_end, self.hints),
        )


def _utf8(text: str) -> bytes:
    return text.encode("utf-8", "surrogatepass")


def _body_record(
    letter_id: str, text: bytes, start: int, end: int, hints: tuple[tuple[str, str], ...]
) -> BodyRecord:
    return BodyRecord(letter_id, text.decode("utf-8", "surrogatepass"), start, end, hints)


class TextSpans(tuple[tuple[str, int, int], ...]):
    """``(text, start, end)`` of some letters, that travel to another process with each
    text as UTF-8 bytes made for the trip.

    Pickling a ``str`` that is not ASCII leaves a UTF-8 copy of it cached inside the
    string for as long as the string lives: a process that sends every letter's text
    to its workers (the engine's driver, which holds them all) would hold each text
    twice, ~110 MB more at 100k letters. ``str.encode`` caches nothing."""

    __slots__ = ()

    def __reduce__(self) -> tuple[object, ...]:
        return (_text_spans, (tuple((_utf8(t), a, b) for t, a, b in self),))


def _text_spans(spans: tuple[tuple[bytes, int, int], ...]) -> TextSpans:
    return TextSpans((t.decode("utf-8", "surrogatepass"), a, b) for t, a, b in spans)


@dataclass(frozen=True, slots=True)
class AnalysisParams:
    lsh: LSHParams = field(default_factory=LSHParams)
    align: AlignParams = field(default_factory=AlignParams)
    #: most distinct variants a template is built from
    template_sample: int = 60
    #: candidate pairs verified per scheduling round
    verify_round: int = 1024
    #: two components whose candidate pairs failed to link this many times are not tried
    #: again (0: every pair is tried until the components are connected). After one
    #: failure a pair of components almost never links (20k synthetic letters: 24% of
    #: first tries link, 0.5% of later rounds); what links after many is a letter that
    #: mixes two templates, a bridge the family stage must cut again. At 20k letters, 8
    #: spared 128,000 of 304,000 pairs sent to alignment and split the largest
    #: component (9,940 letters) into ones of at most 2,624, halving the families stage.
    verify_give_up: int = 8
    #: a candidate pair that shared at most this many LSH buckets (of its letters' chunk
    #: pairs, over all bands) is weak: its letters share a chunk or two at most, such
    #: as a stock paragraph of several templates. At 20k synthetic letters, 126,000 of
    #: the 173,000 pairs aligned were weak, and 193 of them linked
    weak_hits: int = 2
    #: two components whose pairs failed to link this many times are not tried again
    #: through weak pairs (0: weak pairs are given up on as any other). Weak pairs were
    #: most of what verify aligned (200k letters: 1.43M of 2.24M pairs; 5,400 linked,
    #: 3,200 of them after their components had failed), and of the weak pairs that
    #: linked two letters already linked to others, 1,777 in 1,798 joined two truth
    #: families. 20k: 183,000 pairs aligned -> 100,000; 200k: ARI 0.9835 -> 0.9837,
    #: unique-text precision 0.795 -> 0.817
    weak_give_up: int = 1
    #: a component with at least this many letters is a big one: peeled whole in one
    #: worker, or from the calling process with its diffs spread (``whole_at_most``)
    split_diffs_at: int = 400
    #: with a local pool of 2 workers, when no component has more letters than this, each
    #: big one is peeled whole in one worker, its families streamed back as they are
    #: finished, instead of from the calling process with its diffs spread (that process
    #: then has little to do but store the families). Beyond it, one worker's serial peel
    #: outlasts the spread diffs (engine alone, families stage: 12k-letter component 7.0
    #: s whole against 6.5 s spread, but 7.1 against 8.2 s once the families are stored
    #: meanwhile; 17k: 13.5 against 12.4 s; 35k: 37.1 against 26.6 s). Scaled by 2/jobs
    #: for more workers, as the spread diffs gain from each.
    whole_at_most: int = 15_000
    #: with a local pool of 2 workers, the most letters of a component a worker peels
    #: whole once this process peels a bigger one (scaled by 2/jobs for more workers, as
    #: ``whole_at_most``); bigger ones are peeled by this process, one after another. A
    #: worker's memory bounds it: a process peeling a 40,304-letter component whole
    #: held 1.6 GB once it had the component, 2.0 GB at its peak
    worker_at_most: int = 60_000
    #: a member is diffed against a template only when at least this share of its word
    #: k-grams, or of the template's, occur in the other (a cheap bound: holding a
    #: template needs half of one side aligned)
    prefilter: float = 0.25
    #: letters that no verified link reached get candidates by vocabulary too (a letter
    #: rewritten in part keeps its words, not its phrases): see ``_rescue``
    rescue: bool = True
    #: letters left in no family are grouped once more, by a looser rule that finds
    #: comments spun from one spintax (a phrase in each place picked from a few): see
    #: ``_loose``
    loose: bool = True
    #: letters still in no family join a family whose template they follow sentence by
    #: sentence, its words reworded (a template is the consensus of many copies, closer
    #: to each than they are to one another): see ``_follow``
    follow: bool = True

    def __post_init__(self) -> None:
        # a round of no pairs would never finish verifying; no template without members
        if self.verify_round < 1:
            raise ValueError(f"verify_round must be at least 1, not {self.verify_round}")
        if self.verify_give_up < 0:
            raise ValueError(f"verify_give_up must be 0 or more, not {self.verify_give_up}")
        if self.weak_give_up < 0:
            raise ValueError(f"weak_give_up must be 0 or more, not {self.weak_give_up}")
        if self.template_sample < 1:
            raise ValueError(f"template_sample must be at least 1, not {self.template_sample}")
        if not 0.0 <= self.prefilter <= 1.0:
            raise ValueError(f"prefilter is a share, between 0 and 1, not {self.prefilter}")


@dataclass(frozen=True, slots=True)
class ComponentJob:
    """One connected component, self-contained so it can be shipped to any worker."""

    records: tuple[BodyRecord, ...]
    tokens: tuple[Tokens, ...]
    #: duplicates[i] = records (same folded body as records[i]) that follow its family
    duplicates: tuple[tuple[BodyRecord, ...], ...]
    #: candidate-graph weight of each record (centrality)
    weights: tuple[float, ...]
    #: the candidate pairs among them: a (pairs, 2) array of indices into ``records``
    candidates: npt.NDArray[np.int64]
    params: AnalysisParams

    def __reduce__(self) -> tuple[object, ...]:
        # jobs travel to the workers with most letters' tokens: packed, not one by one
        # (at 20,000 letters, 122 MB of tokens pickled in 0.31 s and unpickled in
        # 0.38 s; packed, 88 MB in 0.11 s and 0.21 s)
        return (
            _component_job,
            (
                self.records,
                pack_tokens(self.tokens),
                self.duplicates,
                self.weights,
                self.candidates,
                self.params,
            ),
        )


def _component_job(
    records: tuple[BodyRecord, ...],
    tokens: PackedTokens,
    duplicates: tuple[tuple[BodyRecord, ...], ...],
    weights: tuple[float, ...],
    candidates: npt.NDArray[np.int64],
    params: AnalysisParams,
) -> ComponentJob:
    return ComponentJob(records, unpack_tokens(tokens), duplicates, weights, candidates, params)


@dataclass(frozen=True, slots=True)
class FamilyOutcome:
    families: tuple[Family, ...]
    #: (letter_id, family_id, similarity, coverage)
    memberships: tuple[tuple[str, str, float, float], ...]
    #: the diffs of letters that join families handed over before (``_join``): their
    #: membership rows are among ``memberships``, their families not in ``families``
    diffs: tuple[LetterDiff, ...] = ()


@dataclass(frozen=True, slots=True)
class Analysis:
    families: tuple[Family, ...]
    memberships: tuple[tuple[str, str, float, float], ...]
    links: tuple[Link, ...]
    stats: Mapping[str, float]
