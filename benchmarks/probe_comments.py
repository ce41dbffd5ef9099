# ruff: noqa: E501  (the campaigns are sentences, one per line)
"""Probe: short public comments to a regulator. Eight campaigns, each a comment of two to
five sentences sent by 15-150 people, beside 300 comments of people's own; every
comment is short, and many share stock phrases ("I urge the agency to", "Thank you for
the opportunity to comment") across campaigns and with the comments of people's own.
Prints what ``formletter evaluate`` gives.

A campaign copy keeps the text whole or drops one sentence, may change a word or two,
may swap two sentences, and half the time adds a sentence of the sender's own before or
after it (the truth's inserted text: mostly words of their own, sometimes one of a few
sentences that several senders use). Then it is signed: a name, sometimes a town. With
``--rewrite P``, each word of a campaign copy is replaced with probability P, by a
near-synonym when it has one, else by another word (a commenter rewording the text
rather than pasting it). The comments of
people's own are one to three sentences of the Python standard library's docstrings
(real English that no two comments share by design), often opened or closed with a
stock phrase. The truth: a family per campaign (people's own comments in none).

    python benchmarks/probe_comments.py --seed 7 --rewrite 0.15
"""

from __future__ import annotations

import argparse
import importlib.util
import random
import tempfile
from pathlib import Path
from typing import Any

CAMPAIGNS = {
    "wolves": [
        "I am writing to oppose the proposal to remove gray wolves from the list of endangered species.",
        "Wolves have only begun to recover in a small part of their historic range, and removing protections now would undo decades of work.",
        "The science shows that wolves keep deer and elk herds healthy and help whole ecosystems recover.",
        "Please keep federal protections in place until the species has truly recovered across the country.",
    ],
    "netneutrality": [
        "I support strong net neutrality rules under Title II of the Communications Act.",
        "Internet providers should not be allowed to block, throttle, or charge websites for faster access to their customers.",
        "An open internet is essential for small businesses, students, and free expression.",
    ],
    "methane": [
        "The agency must finalize strong limits on methane pollution from oil and gas wells.",
        "Methane is a powerful greenhouse gas, and leaks from wells and pipelines also release toxic pollutants that harm nearby families.",
        "The technology to find and fix leaks is cheap and already widely used.",
        "Every year of delay means more pollution in our air and a hotter planet for our children.",
        "Please adopt the strongest possible standard without further delay.",
    ],
    "banks": [
        "Please do not weaken the rule that requires banks to hold enough capital to survive a crisis.",
        "Taxpayers should never again be forced to bail out the largest banks when their bets go bad.",
    ],
    "fiduciary": [
        "Financial advisers who manage retirement savings should be required to act in the best interest of their clients.",
        "Hidden fees and conflicts of interest cost savers billions of dollars every year.",
        "I ask the department to keep the fiduciary rule and enforce it fully.",
    ],
    "coal": [
        "I oppose the proposal to repeal the limits on mercury and air toxics from coal plants.",
        "These standards have already cut mercury pollution dramatically and prevent thousands of premature deaths each year.",
        "Power companies have installed the controls, so repealing the rule saves them almost nothing.",
        "Keep the standards in place to protect pregnant women and children.",
    ],
    "payday": [
        "Payday lenders trap working families in cycles of debt with interest rates that can top three hundred percent.",
        "The bureau should require lenders to check whether a borrower can afford to repay a loan before making it.",
        "Please keep the ability to repay rule strong.",
    ],
    "parks": [
        "Our national monuments belong to all Americans and must not be shrunk or opened to mining and drilling.",
        "These lands protect sacred sites, wildlife habitat, and places where families hike, hunt, and fish.",
        "I urge the department to leave the boundaries of every monument as they are.",
    ],
}

OPENERS = [
    "I urge the agency to consider the following.",
    "Thank you for the opportunity to comment on this proposal.",
    "I am writing as a concerned citizen.",
    "Please read my comment.",
]
CLOSERS = [
    "Thank you for your consideration.",
    "I urge you to listen to the public.",
    "Thank you for the opportunity to comment.",
]
OWN = [
    "As a grandmother of five, I think about the world my grandchildren will inherit.",
    "I have lived in this state for forty years and have seen the damage firsthand.",
    "My family runs a small farm, and this matters to us.",
    "I am a nurse and I see the effects of this every day at work.",
    "This issue is personal for me because my brother lost his savings.",
    "I hike in these places every summer with my kids.",
    "I worked in the industry for twenty years and know the costs are overstated.",
    "Please do the right thing for once.",
    "My town depends on clean water and healthy forests.",
    "I voted in every election since 1968 and I am watching what you do.",
]
SWAPS = {
    "oppose": "object to",
    "proposal": "plan",
    "remove": "take",
    "protections": "safeguards",
    "essential": "vital",
    "strong": "robust",
    "finalize": "complete",
    "powerful": "potent",
    "harm": "hurt",
    "cheap": "inexpensive",
    "weaken": "water down",
    "survive": "withstand",
    "largest": "biggest",
    "required": "obliged",
    "billions": "huge sums",
    "repeal": "scrap",
    "dramatically": "sharply",
    "prevent": "avert",
    "families": "households",
    "check": "verify",
    "afford": "manage",
    "belong": "matter",
    "protect": "safeguard",
    "urge": "ask",
    "science": "research",
    "healthy": "thriving",
    "delay": "waiting",
    "keep": "maintain",
    "please": "kindly",
    "support": "back",
    "allowed": "permitted",
    "cost": "take from",
    "whole": "entire",
    "country": "nation",
    "children": "kids",
    "places": "spots",
}
NAMES = [
    "Mary Jones",
    "Robert Smith",
    "Linda Garcia",
    "James Brown",
    "Patricia Miller",
    "John Davis",
    "Barbara Wilson",
    "Michael Moore",
    "Susan Taylor",
    "David Anderson",
    "Karen Thomas",
    "Daniel Jackson",
    "Nancy White",
    "Paul Harris",
    "Lisa Martin",
]
TOWNS = ["Boise, ID", "Dayton, OH", "Tulsa, OK", "Fresno, CA", "Albany, NY", "Reno, NV"]


def _legislation() -> Any:
    """The model legislation probe, loaded from beside this file (so that this one also
    runs as a module loaded by path): its sentences, truth writing and scoring."""
    path = Path(__file__).with_name("probe_legislation.py")
    spec = importlib.util.spec_from_file_location("formletter_probe_legislation", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


#: how a comment may be signed with ``--signatures varied`` ({n}: the name, {t}: a town)
SIGNATURES = [
    "\n\n{n}\n",
    "\n\n{n}\n{t}\n",
    "\n\n- {n}\n",
    "\n\n{n}, {t}\n",
    "\n\nThanks, {n}\n",
    "\n\nThank you,\n{n}\n",
    "\n\nRespectfully submitted,\n{n}\n",
    "\n\n{N}\n",
    "\n\nSincerely,\n\n{n}\n{t}\n",
]


def generate(out: Path, seed: int, rewrite: float, signatures: str = "plain") -> Path:
    """Write the comments to ``out/letters`` and the truth to ``out/truth.jsonl``.
    ``signatures``: "plain" (a name, sometimes over a town) or "varied" (each comment
    signed in one of :data:`SIGNATURES`' ways, picked by a generator of its own, so the
    comments are otherwise the plain ones)."""
    rng = random.Random(seed)
    styles = random.Random(seed + 1)
    legislation = _legislation()
    pool = legislation.docstring_sentences()
    (out / "letters").mkdir(parents=True, exist_ok=True)
    rows: list[dict[str, object]] = []

    def sign() -> str:
        name = rng.choice(NAMES)
        # drawn either way, so that the rest of the corpus is the plain one
        plain = f"\n\n{name}\n{rng.choice(TOWNS)}\n" if rng.random() < 0.4 else f"\n\n{name}\n"
        if signatures != "varied":
            return plain
        style = styles.choice(SIGNATURES)
        return style.format(n=name, N=name.upper(), t=styles.choice(TOWNS))

    fillers = sorted({w.strip(".,").lower() for s in pool for w in s.split() if w.isalpha()})

    def reword(sentence: str) -> str:
        """Each word reworded with probability ``rewrite``: by its near-synonym when it has
        one, else by some other word (a commenter's own choice of words)."""
        words = sentence.split()
        for i, w in enumerate(words):
            if rng.random() >= rewrite:
                continue
            key = w.lower().strip(".,")
            new = SWAPS.get(key) or rng.choice(fillers)
            words[i] = w.replace(w.strip(".,"), new.title() if w[:1].isupper() else new)
        return " ".join(words)

    def write(text: str, family: str | None, inserted: list[list[int]]) -> None:
        name = f"letters/c{len(rows) + 1:05d}.txt"
        (out / name).write_text(text, encoding="utf-8")
        rows.append({"file": name, "family": family, "inserted": inserted})

    for key, sentences in CAMPAIGNS.items():
        for _ in range(rng.randint(15, 150)):
            kept = list(sentences)
            if len(kept) > 2 and rng.random() < 0.3:
                del kept[rng.randrange(len(kept))]
            if len(kept) > 1 and rng.random() < 0.15:
                i = rng.randrange(len(kept) - 1)
                kept[i], kept[i + 1] = kept[i + 1], kept[i]
            if rewrite:
                kept = [reword(s) for s in kept]
            # the sender's own sentence: mostly their own words, sometimes one that
            # several senders share (the campaign suggested a few)
            own = None
            if rng.random() < 0.5:
                own = rng.choice(OWN) if rng.random() < 0.3 else rng.choice(pool)
            text, inserted = "", []
            if own and rng.random() < 0.5:
                inserted.append([0, len(own)])
                text = own + " "
            text += " ".join(kept)
            if own and not inserted:
                text += " "
                inserted.append([len(text), len(text) + len(own)])
                text += own
            write(text + sign(), key, inserted)
    for _ in range(300):
        parts = rng.sample(pool, rng.randint(1, 3))
        if rng.random() < 0.4:
            parts.insert(0, rng.choice(OPENERS))
        if rng.random() < 0.4:
            parts.append(rng.choice(CLOSERS))
        write(" ".join(parts) + sign(), None, [])
    return Path(legislation.write_truth(out, rows))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--rewrite", type=float, default=0.0, help="share of words reworded")
    parser.add_argument("--jobs", type=int, default=0)
    parser.add_argument("--keep", type=Path, help="write the corpus and database here")
    parser.add_argument(
        "--signatures",
        choices=["plain", "varied"],
        default="plain",
        help="plain: a name, sometimes over a town; varied: also '- Name', 'Name, Town',"
        " 'Thanks, Name', capitals, sign-offs",
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        where = args.keep or Path(tmp)
        out = generate(where, args.seed, args.rewrite, args.signatures)
        s = _legislation().score(out, where / "probe.db", args.jobs)
    print(
        f"public comments, seed {args.seed}, rewrite {args.rewrite}"
        f"{', varied signatures' if args.signatures == 'varied' else ''}: {s.letters} comments,"
        f" ARI {s.ari:.4f}, pairs P {s.pair_precision:.4f} / R {s.pair_recall:.4f},"
        f" unique text P {s.unique_precision:.4f} / R {s.unique_recall:.4f}"
    )


if __name__ == "__main__":
    main()
