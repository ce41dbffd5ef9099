# ruff: noqa: E501  (the model acts are sentences of legal text, one per line)
"""Probe: model legislation. Six model acts, each adopted by 6-12 states inside bills of
their own, beside 30 unrelated bills; every bill shares an enacting clause and a
severability clause with the rest. Prints what ``formletter evaluate`` gives.

Each adopting bill keeps 70-100% of the act's sections (sometimes reordered), with a
word or two changed in some and the state's name put in; it adds sections of its own
(short bills: 0-3, ``--long``: 6-16, so that the act is under half of the bill). The
bills' own text and the unrelated bills are sentences of the Python standard library's
docstrings: real English that no two bills share by design. The truth: a family per act
(the unrelated bills in none); the added sections are the states' own text (word edits
and renumbered sections are not counted, so unique-text precision is a floor).

    python benchmarks/probe_legislation.py --seed 7 --long
"""

from __future__ import annotations

import argparse
import ast
import json
import random
import re
import sysconfig
import tempfile
from pathlib import Path
from typing import Any

ACTS = {
    "telehealth": (
        "Telehealth Parity Act",
        "health care provider",
        "telehealth services",
        "Department of Health",
        [
            "A health insurance plan issued, amended, or renewed in this state shall provide coverage for health care services delivered through telehealth on the same basis and to the same extent that the plan provides coverage for the same services delivered in person.",
            "A health insurance plan may not require that a covered person have a previously established patient relationship with a health care provider before receiving services through telehealth.",
            "Reimbursement for a service delivered through telehealth shall be at a rate not lower than the rate of reimbursement for the same service delivered in person, and may not be subject to a separate deductible.",
            "A plan may not limit coverage to services delivered by a particular vendor or require the use of a proprietary platform as a condition of payment.",
            "For purposes of this section, the originating site may be the home of the patient, a school, a workplace, or any other location the patient chooses.",
            "Nothing in this section requires a provider to deliver a service through telehealth when the provider determines that an in-person examination is needed to meet the standard of care.",
            "A health care provider who delivers services through telehealth shall keep records of each encounter in the same manner as an in-person visit and shall make them available to the patient on request.",
            "The commissioner of insurance shall report annually to the legislature on the use of telehealth services, the claims paid, and any complaints received from covered persons.",
            "An audio-only telephone consultation is telehealth when the patient lacks access to broadband service or declines video, and the provider documents the reason.",
            "A licensed provider located in another state may deliver telehealth services to a patient in this state if the provider holds a telehealth registration issued by the appropriate licensing board.",
        ],
    ),
    "forfeiture": (
        "Civil Asset Forfeiture Reform Act",
        "law enforcement agency",
        "seized property",
        "Attorney General",
        [
            "Property may be forfeited under this chapter only if the owner of the property has been convicted of the criminal offense that makes the property subject to forfeiture.",
            "The state shall prove by clear and convincing evidence that the property is the instrumentality of or the proceeds derived directly from the offense for which the owner was convicted.",
            "An innocent owner may petition the court for the return of seized property at any time before the forfeiture hearing, and the court shall hold a hearing on the petition within thirty days.",
            "A law enforcement agency may not transfer seized property to a federal agency for the purpose of forfeiture under federal law unless the value of the property exceeds one hundred thousand dollars.",
            "All proceeds of forfeiture shall be deposited in the general fund of the state and may not be retained by the seizing agency or used to supplement its budget.",
            "Each law enforcement agency shall file a report with the attorney general listing every seizure, the value of the property, the offense alleged, and the final disposition of the case.",
            "The attorney general shall publish the reports received under this section on a public website in a searchable format no later than April first of each year.",
            "A defendant may request a pretrial hearing to determine whether seized property is needed to retain counsel, and the court shall order its release if the defendant shows a need.",
            "Property worth less than two thousand dollars may not be seized for the purpose of forfeiture unless it is contraband or is evidence in a pending criminal case.",
            "The court may award reasonable attorney fees and costs to a claimant who substantially prevails in a proceeding under this chapter.",
        ],
    ),
    "speech": (
        "Campus Free Expression Act",
        "public institution of higher education",
        "expressive activity",
        "Board of Regents",
        [
            "The outdoor areas of the campus of a public institution of higher education are traditional public forums, and any person may engage in expressive activity there so long as the conduct is lawful.",
            "An institution may maintain reasonable restrictions on the time, place, and manner of expressive activity that are narrowly tailored to serve a significant institutional interest and leave open ample alternative channels.",
            "An institution may not designate any area of campus as a free speech zone or otherwise create policies restricting expressive activity to particular areas of campus.",
            "A student organization may not be denied recognition, funding, or access to facilities because of the content or viewpoint of its expression.",
            "An institution may not charge security fees to a speaker or host organization based on the content of the speech or the anticipated reaction of the audience.",
            "Any person who substantially interferes with the ability of others to engage in or observe lawful expressive activity on campus is subject to discipline under the institution's code of conduct.",
            "The governing board shall include in its orientation programs for first-year students a section describing the policies adopted under this act.",
            "A person whose expressive rights are violated by an institution may bring an action for injunctive relief, court costs, and reasonable attorney fees.",
            "Each institution shall submit to the governor and the legislature an annual report on the implementation of this act, including any barriers to or disruptions of free expression.",
            "Nothing in this act shall be construed to prevent an institution from prohibiting speech that constitutes true threats or harassment as defined by the courts of the United States.",
        ],
    ),
    "licensing": (
        "Occupational Licensing Review Act",
        "licensing board",
        "occupational regulation",
        "Office of Regulatory Review",
        [
            "It is the policy of this state that the right of an individual to pursue a lawful occupation is a fundamental right, and an occupational regulation may be enforced only to protect against present and recognizable harm.",
            "The office shall review each proposed occupational regulation and shall recommend the least restrictive regulation necessary to protect consumers from the harm identified.",
            "The least restrictive means of regulation, in ascending order, are market competition, third-party certification, specific private civil causes of action, inspection, bonding, registration, certification, and licensure.",
            "Each licensing board shall review one fifth of its regulations every year and submit a report recommending which regulations should be repealed, modified, or retained.",
            "An individual with a criminal record may petition a licensing board at any time for a determination of whether the record would disqualify the individual from obtaining a license.",
            "A board may disqualify an applicant because of a criminal conviction only if the conviction is directly and specifically related to the duties and responsibilities of the occupation.",
            "A person who holds a license in good standing in another state for at least one year shall be granted a license in this state for the same occupation at a similar scope of practice.",
            "A licensing board may not require a person to complete more than the number of hours of education or training required by the median of all states for the same occupation.",
            "The legislative committee with jurisdiction shall hold a public hearing on each report of the office and may introduce legislation to implement its recommendations.",
            "This act does not apply to regulations governing physicians, attorneys, or other professions whose scope of practice is defined by the state constitution.",
        ],
    ),
    "privacy": (
        "Consumer Data Privacy Act",
        "controller",
        "personal data",
        "Consumer Protection Division",
        [
            "A consumer has the right to confirm whether a controller is processing the consumer's personal data and to access that personal data in a portable and readily usable format.",
            "A consumer has the right to correct inaccuracies in the consumer's personal data and to delete personal data provided by or obtained about the consumer.",
            "A consumer may opt out of the processing of personal data for purposes of targeted advertising, the sale of personal data, or profiling in furtherance of decisions that produce legal effects.",
            "A controller shall respond to a consumer request without undue delay, but in all cases within forty-five days of receipt of the request, and may extend the period once by forty-five additional days.",
            "A controller shall limit the collection of personal data to what is adequate, relevant, and reasonably necessary in relation to the purposes for which the data is processed.",
            "A controller may not process sensitive data concerning a consumer without obtaining the consumer's consent, or in the case of a known child, without complying with federal law.",
            "A controller shall provide consumers with a reasonably accessible, clear, and meaningful privacy notice that describes the categories of data processed and the purpose of processing.",
            "A processor shall adhere to the instructions of a controller and shall assist the controller in meeting its obligations, including the security of processing and notification of a breach.",
            "The attorney general has exclusive authority to enforce this act, and before bringing an action shall give the controller thirty days written notice and an opportunity to cure the violation.",
            "This act does not create a private right of action, and a violation of this act may not serve as the basis for an action under any other law.",
        ],
    ),
    "parental": (
        "Parental Rights in Education Act",
        "school district",
        "instructional materials",
        "State Board of Education",
        [
            "Each school district shall adopt procedures for notifying a parent if there is a change in the student's services or monitoring related to the student's mental, emotional, or physical health.",
            "A school district shall make available for public inspection all instructional materials, including teacher-created materials, used in each course offered by the district.",
            "A parent may object to specific instructional materials, and the school district shall provide an alternative assignment to the student upon the written request of the parent.",
            "A school district may not adopt procedures that prohibit district personnel from notifying a parent about the student's well-being unless disclosure would result in abuse or neglect.",
            "At the beginning of each school year, a school district shall notify parents of each health care service offered at the school and the option to withhold consent for any service.",
            "Before administering a survey or questionnaire about personal matters, a school district shall provide the questionnaire to the parent and obtain the parent's written consent.",
            "The board of education shall review and update the standards for student support services to ensure they comply with the rights of parents described in this act.",
            "A parent may request that the school principal address a concern, and if the concern is not resolved within seven days, the parent may request a hearing before a special magistrate.",
            "The state board shall adopt rules to administer this section, including a procedure for the appointment of a special magistrate and the payment of costs.",
            "This section may not be construed to limit the authority of a school district to protect the health or safety of a student in an emergency.",
        ],
    ),
}

SEVERABILITY = (
    "If any provision of this act or the application thereof to any person or circumstance "
    "is held invalid, the invalidity does not affect other provisions or applications of the act "
    "which can be given effect without the invalid provision or application, and to this end the "
    "provisions of this act are severable."
)
EFFECTIVE = [
    "This act takes effect July 1, {y}.",
    "This act shall take effect on January 1, {y}.",
    "This act takes effect immediately if it receives a vote of two-thirds of all the members elected to each house.",
]
DEFS = 'As used in this act: (1) "{a}" means {b}. (2) "Department" means the {d} of this state. (3) "Person" means an individual, corporation, partnership, association, or other legal entity.'

_FILLER_WORDS = ("such", "any", "the", "each", "a", "that", "all")
_STATES = [
    "Texas",
    "Ohio",
    "Florida",
    "Arizona",
    "Georgia",
    "Utah",
    "Kansas",
    "Iowa",
    "Idaho",
    "Oklahoma",
    "Missouri",
    "Indiana",
    "Wisconsin",
    "Michigan",
    "Tennessee",
    "Alabama",
    "Louisiana",
    "Kentucky",
    "Montana",
    "Nebraska",
]
_OTHER_TITLES = ("Motor Vehicle Fees Act", "Farm Equipment Act", "Election Records Act")


def docstring_sentences(limit: int = 400) -> list[str]:
    """Sentences of the standard library's docstrings (the first ``limit`` modules)."""
    lib = Path(sysconfig.get_paths()["stdlib"])
    found: set[str] = set()
    for path in sorted(lib.glob("*.py"))[:limit]:
        try:
            tree = ast.parse(path.read_text(errors="ignore"))
        except (SyntaxError, ValueError):
            continue
        for node in ast.walk(tree):
            if not isinstance(node, ast.FunctionDef | ast.ClassDef | ast.Module):
                continue
            doc = ast.get_docstring(node)
            for para in (doc or "").split("\n\n"):
                para = " ".join(para.split())
                if ">>>" in para or len(para) < 60 or re.search(r"[{}\[\]=<>_:]", para):
                    continue
                for s in re.split(r"(?<=[.!?])\s+", para):
                    if 40 <= len(s) <= 220 and s[0].isupper() and s.endswith("."):
                        found.add(s)
    return sorted(found)


def generate(out: Path, seed: int, long: bool) -> Path:
    """Write the bills to ``out/letters`` and the truth to ``out/truth.jsonl``."""
    rng = random.Random(seed)
    pool = docstring_sentences()
    (out / "letters").mkdir(parents=True, exist_ok=True)
    rows: list[dict[str, object]] = []

    def head(state: str, title: str) -> str:
        chamber = rng.choice(["HOUSE BILL", "SENATE BILL", "H.B.", "S.B."])
        year = rng.choice(["2019", "2020", "2021", "2022"])
        return (
            f"{state.upper()} LEGISLATURE\n{year} REGULAR SESSION\n\n"
            f"{chamber} NO. {rng.randint(100, 3999)}\n\nAN ACT relating to "
            f"{title.lower()[:-4].strip()}; amending the statutes of {state}; and providing"
            f" an effective date.\n\nBE IT ENACTED BY THE LEGISLATURE OF THE STATE OF "
            f"{state.upper()}:\n\n"
        )

    def tail(number: int) -> str:
        effective = rng.choice(EFFECTIVE).format(y=rng.randint(2020, 2025))
        return f"Section {number}. {SEVERABILITY}\n\nSection {number + 1}. {effective}\n"

    def edited(sentence: str, state: str) -> str:
        words = sentence.split()
        for _ in range(rng.choice([0, 0, 1, 2])):
            i = rng.randrange(len(words))
            if words[i].islower():
                words[i] = rng.choice(_FILLER_WORDS)
        return " ".join(words).replace(
            "this state", rng.choice(["this state", f"the State of {state}", state])
        )

    def write(text: str, family: str | None, inserted: list[list[int]]) -> None:
        name = f"letters/bill{len(rows) + 1:04d}.txt"
        (out / name).write_text(text, encoding="utf-8")
        rows.append({"file": name, "family": family, "inserted": inserted})

    for key, (title, a, b, dept, sections) in ACTS.items():
        for state in rng.sample(_STATES, rng.randint(6, 12)):
            text, inserted = head(state, title), []
            share = rng.choice([1.0, 0.85, 0.7])
            kept = [s for s in sections if rng.random() < share]
            if rng.random() < 0.3:
                rng.shuffle(kept)
            defs = DEFS.format(a=a.title(), b=f"a {b} subject to this act", d=dept)
            parts: list[str | None] = [defs, *(edited(s, state) for s in kept)]
            extra = rng.randint(6, 16) if long else rng.choice([0, 0, 1, 2, 3])
            for _ in range(extra):
                parts.insert(rng.randint(1, len(parts)), None)
            for number, part in enumerate(parts, 1):
                if part is None:
                    start = len(text)
                    text += f"Section {number}. {' '.join(rng.sample(pool, 2))}"
                    inserted.append([start, len(text)])
                    text += "\n\n"
                else:
                    text += f"Section {number}. {part}\n\n"
            write(text + tail(len(parts) + 1), key, inserted)
    for _ in range(30):
        text = head(rng.choice(_STATES), rng.choice(_OTHER_TITLES))
        count = rng.randint(6, 10)
        for number in range(1, count):
            text += f"Section {number}. {' '.join(rng.sample(pool, 3))}\n\n"
        write(text + tail(count), None, [])
    return write_truth(out, rows)


def write_truth(out: Path, rows: list[dict[str, object]]) -> Path:
    """``rows`` (a dict per letter) as ``out/truth.jsonl``; returns ``out``."""
    with open(out / "truth.jsonl", "w", encoding="utf-8") as fh:
        for row in rows:
            fh.write(json.dumps(row) + "\n")
    return out


def score(out: Path, db: Path, jobs: int) -> Any:
    """``formletter analyze`` of ``out/letters`` into ``db``, then what ``evaluate``
    gives against ``out/truth.jsonl``."""
    from formletter.pipeline import AnalyzeOptions, analyze, evaluate_store
    from formletter.store import open_store

    with open_store(db) as store:
        analyze(store, [out / "letters"], AnalyzeOptions(jobs=jobs))
        return evaluate_store(store, out / "truth.jsonl")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--long", action="store_true", help="6-16 sections of the state's own")
    parser.add_argument("--jobs", type=int, default=0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        s = score(generate(Path(tmp), args.seed, args.long), Path(tmp) / "probe.db", args.jobs)
    print(
        f"model legislation, seed {args.seed}{', long bills' if args.long else ''}: "
        f"{s.letters} bills, ARI {s.ari:.4f}, pairs P {s.pair_precision:.4f} / R "
        f"{s.pair_recall:.4f}, unique text P {s.unique_precision:.4f} / R {s.unique_recall:.4f}"
    )


if __name__ == "__main__":
    main()
