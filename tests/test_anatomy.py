"""The anatomy parser: every part, on hand-written letters, emails, comments and the seeds."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from formletter.anatomy import parse
from formletter.models import PART_KINDS, Anatomy

SEEDS = Path(__file__).resolve().parents[2] / "shared" / "seeds"

ANY = object()


def _texts(text: str, a: Anatomy, kind: str) -> list[str]:
    return [text[p.start : p.end] for p in a.parts if p.kind == kind]


def _check(text: str, a: Anatomy, fields: dict[str, Any], parts: list[tuple[Any, ...]]) -> None:
    for key, want in fields.items():
        if key == "body":
            assert text[a.body_start : a.body_end] == want
        elif key == "body_starts":
            assert text[a.body_start :].startswith(want), text[a.body_start : a.body_start + 60]
        elif key == "body_ends":
            assert text[: a.body_end].endswith(want), text[a.body_end - 60 : a.body_end]
        else:
            assert getattr(a, key) == want, (key, getattr(a, key))
    for spec in parts:
        kind, span_text = spec[0], spec[1]
        found = [p for p in a.parts if p.kind == kind and text[p.start : p.end] == span_text]
        assert found, (kind, span_text, _texts(text, a, kind))
        if len(spec) > 2 and spec[2] is not ANY:
            assert found[0].value == spec[2], (kind, found[0].value)


# ------------------------------------------------------------------ the seed letters


def _seed(prefix: str) -> str:
    files = sorted(SEEDS.glob(f"{prefix}_*.txt"))
    if not files:
        pytest.skip(f"seed letters not found under {SEEDS}")
    return files[0].read_text(encoding="utf-8")


def test_seed_000() -> None:
    text = _seed("000")
    a = parse(text)
    _check(
        text,
        a,
        {
            "sender_name": "Chris Heaton-Harris",
            "constituency": "Daventry",
            "sender_role": "Member of Parliament",
            "date": "2018-09",
            "closing": "Yours faithfully",
            "salutation": "Dear Constituent",
            "heading": None,
            "body_starts": "Thank you for contacting me about MPs",
            "body_ends": "Thank you again for taking the time to contact me.",
        },
        [
            ("letterhead", "HOUSE OF COMMONS"),
            ("letterhead", "LONDON SW1A 0AA"),
            ("date", "September 2018", "2018-09"),
            ("salutation", "Dear Constituent,", "Dear Constituent"),
            ("signoff", "Yours faithfully,", "Yours faithfully"),
            (
                "signature",
                "A handwritten signature in blue ink, appearing to read 'Chris'.",
                "Chris",
            ),
            ("name", "CHRIS HEATON-HARRIS MP", "Chris Heaton-Harris"),
            ("role", "MEMBER OF PARLIAMENT", "Member of Parliament"),
            ("constituency", "DAVENTRY", "Daventry"),
            ("contact", "Tel: 020 7219 7048 Fax: 020 7219 1375"),
            ("contact", "Email: chris.heatonharris.mp@parliament.uk"),
            ("contact", "Website: www.heatonharris.com"),
            ("closing", "Thank you again for taking the time to contact me."),
        ],
    )


def test_seed_001() -> None:
    text = _seed("001")
    a = parse(text)
    heading = "A Response to the MP's Not Border Guards Campaign"
    _check(
        text,
        a,
        {
            "sender_name": "Alister Jack",
            "constituency": "Dumfries and Galloway",
            "date": "2019-09",
            "closing": "Yours sincerely",
            "heading": heading,
            "body_starts": heading + "\n\nThank you for contacting me",
            "body_ends": "Thank you again for taking the time to contact me.",
        },
        [
            ("date", "September 2019", "2019-09"),
            ("heading", heading, heading),
            ("signoff", "Yours sincerely,", "Yours sincerely"),
            ("name", "The Rt. Hon. Alister Jack MP", "Alister Jack"),
            ("constituency", "Dumfries and Galloway constituency.", "Dumfries and Galloway"),
        ],
    )
    # the heading is inside the body; the wrapper is not
    h = a.part("heading")
    assert h is not None and a.body_start <= h.start < h.end <= a.body_end
    for kind in ("date", "salutation", "signoff", "signature", "name", "constituency"):
        p = a.part(kind)
        assert p is not None and (p.end <= a.body_start or p.start >= a.body_end), kind


# ------------------------------------------------------------------ letters, part by part

OFFICE = """Jane Smith MP
Member of Parliament for Bristol West
Constituency Office, 12 High Street
Bristol BS1 4DJ
Tel: 0117 123 4567

Our ref: JS/12345

4th Dec. 2018

Mr J Bloggs
3 Acacia Avenue
Bristol
BS6 7AB

Dear Mr Bloggs,

Re: Animal welfare in farming

Thank you for your letter about animal welfare.

I share your concerns and will raise them with the minister.

Kind regards, Jane Smith MP
"""

MINISTER = """DEPARTMENT FOR EDUCATION
Sanctuary Buildings
London SW1P 3BT

04/12/2018

Dear Constituent,

Subject: School funding

Thank you for your letter.

Yours sincerely,

[Signed]

The Rt Hon Nick Gibb MP
Minister of State for School Standards
Member of Parliament for Bognor Regis and Littlehampton
"""

NO_SIGNOFF = """HOUSE OF COMMONS
LONDON SW1A 0AA

Dear Constituent,

Thank you for contacting me about the NHS. I will continue to press for more funding.

Rt Hon Sir Desmond Swayne TD MP
Member of Parliament for New Forest West
"""

NO_DATE = """Dear Constituent,

Thank you for writing to me about rail fares.

Best wishes,

Dame Caroline Spelman DBE MP
Meriden constituency.
"""

TWO_DATES = """HOUSE OF COMMONS
LONDON SW1A 0AA

Received 10 January 2019

4 December 2018

Dear Constituent,

Thank you for your letter.

Yours faithfully,

JOHN SMITH MP
"""

TWO_DATES_BOTTOM = """2 March 2017

Dear Constituent,

Thank you for your letter.

Yours sincerely,

Jane Smith MP
Dictated 1 March 2017
"""

NAME_IN_LETTERHEAD = """ALISTER JACK MP
DUMFRIES AND GALLOWAY

Septernber 2O19

Dear Constituent,

Thank you for writing to rne.

Yours sincere1y,
"""

REFLOWED = """House of Commons, London SW1A 0AA

2018-12-04

Dear Constituent, thank you for contacting me about the Bill, which I
will study closely. Thank you again for taking the time to contact me. Yours sincerely,
Chris Heaton-Harris MP
MEMBER OF PARLIAMENT FOR DAVENTRY
"""

CAPS_ROLE_SAME_LINE = """September 2018

Dear Constituent,

Thank you for your email.

Yours faithfully,

A handwritten signature in blue ink, appearing to read 'Chris'.

CHRIS HEATON-HARRIS MP, MEMBER OF PARLIAMENT FOR DAVENTRY
"""

POSTNOMINALS = """Dear Sir or Madam,

Thank you.

With best wishes,

Sir Geoffrey Cox KC MP
Torridge and West Devon constituency.
House of Commons, London SW1A 0AA
"""

SMALL_WORDS_PLACE = """Dear Constituent,

Thank you.

Yours sincerely,

TRISTRAM HUNT MP
MEMBER OF PARLIAMENT FOR STOKE-ON-TRENT CENTRAL
"""

CASES: list[tuple[str, str, dict[str, Any], list[tuple[Any, ...]]]] = [
    (
        "constituency-office",
        OFFICE,
        {
            "sender_name": "Jane Smith",
            "constituency": "Bristol West",
            "sender_role": "Member of Parliament",
            "date": "2018-12-04",
            "salutation": "Dear Mr Bloggs",
            "heading": "Animal welfare in farming",
            "closing": "Kind regards",
            "body_starts": "Re: Animal welfare in farming\n\nThank you for your letter",
            "body_ends": "raise them with the minister.",
        },
        [
            ("name", "Jane Smith MP", "Jane Smith"),
            ("role", "Member of Parliament", "Member of Parliament"),
            ("constituency", "Bristol West", "Bristol West"),
            ("letterhead", "Constituency Office, 12 High Street"),
            ("letterhead", "Bristol BS1 4DJ"),
            ("letterhead", "Our ref: JS/12345"),
            ("contact", "Tel: 0117 123 4567"),
            ("date", "4th Dec. 2018", "2018-12-04"),
            ("recipient", "Mr J Bloggs"),
            ("recipient", "3 Acacia Avenue"),
            ("recipient", "BS6 7AB"),
            ("salutation", "Dear Mr Bloggs,", "Dear Mr Bloggs"),
            ("heading", "Re: Animal welfare in farming", "Animal welfare in farming"),
            ("signoff", "Kind regards,", "Kind regards"),
        ],
    ),
    (
        "minister",
        MINISTER,
        {
            "sender_name": "Nick Gibb",
            "constituency": "Bognor Regis and Littlehampton",
            "date": "2018-12-04",
            "heading": "School funding",
            "closing": "Yours sincerely",
            "body": "Subject: School funding\n\nThank you for your letter.",
        },
        [
            ("letterhead", "DEPARTMENT FOR EDUCATION"),
            ("signature", "[Signed]"),
            ("name", "The Rt Hon Nick Gibb MP", "Nick Gibb"),
            (
                "role",
                "Minister of State for School Standards",
                "Minister of State for School Standards",
            ),
            ("role", "Member of Parliament", "Member of Parliament"),
            ("constituency", "Bognor Regis and Littlehampton", "Bognor Regis and Littlehampton"),
        ],
    ),
    (
        "no-signoff",
        NO_SIGNOFF,
        {
            "sender_name": "Desmond Swayne",
            "constituency": "New Forest West",
            "closing": None,
            "date": None,
            "body_ends": "press for more funding.",
        },
        [("name", "Rt Hon Sir Desmond Swayne TD MP", "Desmond Swayne")],
    ),
    (
        "no-date",
        NO_DATE,
        {
            "date": None,
            "sender_name": "Caroline Spelman",
            "constituency": "Meriden",
            "closing": "Best wishes",
            "body": "Thank you for writing to me about rail fares.",
        },
        [("signoff", "Best wishes,", "Best wishes")],
    ),
    (
        "two-dates-top",  # a stamp above the date: the plain date line is the letter's date
        TWO_DATES,
        {"date": "2018-12-04", "sender_name": "John Smith"},
        [
            ("date", "10 January 2019", "2019-01-10"),
            ("date", "4 December 2018", "2018-12-04"),
        ],
    ),
    (
        "two-dates-bottom",  # the date at the top wins over one in the name block
        TWO_DATES_BOTTOM,
        {"date": "2017-03-02", "sender_name": "Jane Smith"},
        [("date", "2 March 2017", "2017-03-02"), ("date", "1 March 2017", "2017-03-01")],
    ),
    (
        "name-in-letterhead-ocr",
        NAME_IN_LETTERHEAD,
        {
            "sender_name": "Alister Jack",
            "date": "2019-09",
            "closing": "Yours sincerely",
            "body": "Thank you for writing to rne.",
        },
        [("name", "ALISTER JACK MP", "Alister Jack"), ("signoff", "Yours sincere1y,")],
    ),
    (
        "reflowed-salutation-and-signoff",
        REFLOWED,
        {
            "salutation": "Dear Constituent",
            "date": "2018-12-04",
            "closing": "Yours sincerely",
            "sender_name": "Chris Heaton-Harris",
            "constituency": "Daventry",
            "body_starts": "thank you for contacting me about the Bill",
            "body_ends": "taking the time to contact me.",
        },
        [("letterhead", "House of Commons, London SW1A 0AA"), ("signoff", "Yours sincerely,")],
    ),
    (
        "caps-name-and-role-one-line",
        CAPS_ROLE_SAME_LINE,
        {"sender_name": "Chris Heaton-Harris", "constituency": "Daventry", "date": "2018-09"},
        [("name", "CHRIS HEATON-HARRIS MP", "Chris Heaton-Harris"), ("constituency", "DAVENTRY")],
    ),
    (
        "post-nominals",
        POSTNOMINALS,
        {
            "sender_name": "Geoffrey Cox",
            "constituency": "Torridge and West Devon",
            "closing": "With best wishes",
            "salutation": "Dear Sir or Madam",
        },
        [("contact", "House of Commons, London SW1A 0AA")],
    ),
    (
        "place-small-words",
        SMALL_WORDS_PLACE,
        {"constituency": "Stoke-on-Trent Central", "sender_name": "Tristram Hunt"},
        [],
    ),
]


@pytest.mark.parametrize(
    ("text", "fields", "parts"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_letter_parts(text: str, fields: dict[str, Any], parts: list[tuple[Any, ...]]) -> None:
    a = parse(text)
    _check(text, a, fields, parts)
    assert all(p.kind in PART_KINDS for p in a.parts)


# ------------------------------------------------------------------ emails and comments

EMAIL = """From: "Smith, Jane" <jane.smith.mp@parliament.uk>
Sent: 04 December 2018 10:22
To: Joe Bloggs <joe@example.org>
Subject: RE: Fracking

Dear Joe,

Thanks for your email about fracking. I oppose it.

Best,
Jane

--
Jane Smith MP | Member of Parliament for Bristol West
www.janesmith.org.uk

On 1 Dec 2018, at 09:00, Joe Bloggs <joe@example.org> wrote:
> Dear Jane,
> Please oppose fracking.
> Yours sincerely,
> Joe
"""

EMAIL_NO_SIG = """From: Joe Bloggs <joe@example.org>
To: jane.smith.mp@parliament.uk
Date: Tue, 4 Dec 2018 10:22:01 +0000
Subject: Fracking

Please oppose fracking in our county.

> earlier text
> more earlier text
"""

WEB_COMMENT = """Submitted by: Mary O'Brien
Date: 2019-02-14
Organisation: none

I support this proposal because it protects rivers.

Sincerely, Mary O'Brien
"""

PUBLIC_COMMENT = """

I oppose the proposed rule because it would harm small businesses in my town.

Please withdraw it.
"""

BILL = """A BILL
TO
Make provision about the regulation of widgets; and for connected purposes.

BE IT ENACTED by the King's most Excellent Majesty, by and with the advice and consent of the
Lords Spiritual and Temporal, and Commons, in this present Parliament assembled, as follows:

1 Widgets
(1) No person may sell a widget without a licence.
"""


def test_email_with_signature_and_quoted_reply() -> None:
    a = parse(EMAIL)
    _check(
        EMAIL,
        a,
        {
            "date": "2018-12-04",
            "heading": "Fracking",
            "salutation": "Dear Joe",
            "closing": "Best",
            "sender_name": "Jane Smith",
            "constituency": "Bristol West",
            "body": "Thanks for your email about fracking. I oppose it.",
        },
        [
            ("email_header", 'From: "Smith, Jane" <jane.smith.mp@parliament.uk>', "from"),
            ("email_header", "Sent: 04 December 2018 10:22", "sent"),
            ("email_header", "Subject: RE: Fracking", "subject"),
            ("email_signature", "--"),
            ("name", "Jane Smith MP", "Jane Smith"),
            ("constituency", "Bristol West"),
            ("contact", "www.janesmith.org.uk"),
        ],
    )
    q = a.part("quoted_reply")
    assert q is not None
    assert EMAIL[q.start :].startswith("On 1 Dec 2018") and q.end == len(EMAIL.rstrip())


def test_email_quoted_gt_lines_and_header_date() -> None:
    a = parse(EMAIL_NO_SIG)
    assert a.date == "2018-12-04"
    assert a.sender_name == "Joe Bloggs"
    assert a.heading == "Fracking"
    assert EMAIL_NO_SIG[a.body_start : a.body_end] == "Please oppose fracking in our county."
    q = a.part("quoted_reply")
    assert q is not None and EMAIL_NO_SIG[q.start : q.end].startswith("> earlier text")


def test_web_comment_headers() -> None:
    a = parse(WEB_COMMENT)
    assert a.date == "2019-02-14"
    assert a.sender_name == "Mary O'Brien"
    assert a.closing == "Sincerely"
    body = "I support this proposal because it protects rivers."
    assert WEB_COMMENT[a.body_start : a.body_end] == body
    assert [p.value for p in a.parts if p.kind == "email_header"] == [
        "submitted by",
        "date",
        "organisation",
    ]


@pytest.mark.parametrize("text", [PUBLIC_COMMENT, BILL], ids=["comment", "bill"])
def test_unstructured_text_is_all_body(text: str) -> None:
    a = parse(text)
    assert text[a.body_start : a.body_end] == text.strip()
    assert a.sender_name is None and a.date is None and a.closing is None
    assert [p.kind for p in a.parts] == ["body"]


# ------------------------------------------------------------------ options and limits


def test_dayfirst_switch() -> None:
    text = "04/12/2018\n\nDear Constituent,\n\nThanks.\n\nYours sincerely,\n\nJane Smith MP\n"
    assert parse(text).date == "2018-12-04"
    assert parse(text, dayfirst=False).date == "2018-04-12"


def test_huge_text_only_wrapper_windows_are_read() -> None:
    middle = ("This sentence belongs to a very long body. " * 20 + "\n\n") * 3000
    text = (
        "4 December 2018\n\nDear Constituent,\n\n" + middle + "Yours sincerely,\n\nJane Smith MP\n"
    )
    a = parse(text)
    assert a.date == "2018-12-04" and a.closing == "Yours sincerely"
    assert a.sender_name == "Jane Smith"
    assert text[a.body_start :].startswith("This sentence")
    assert text[: a.body_end].endswith("very long body.")


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   \n\n\t ",
        "Dear",
        "Yours sincerely,",
        "--",
        "> x",
        "On x wrote:",
        "\x00\x01",
        "\r\n" * 5,
    ],
)
def test_degenerate_inputs(text: str) -> None:
    a = parse(text)
    assert 0 <= a.body_start <= a.body_end <= len(text)
    for p in a.parts:
        assert 0 <= p.start < p.end <= len(text)


PHONE_EMAIL = """Hi Jane,

Please vote against the bill on Tuesday.

Thanks,
Sam

Sent from my iPhone
"""

ROUTING = """Dear Minister,

I enclose the petition signed by 300 residents.

Yours sincerely,

Jane Smith MP
Member of Parliament for Bristol West

cc: The Rt Hon Michael Gove MP
Enc.
"""


def test_mail_client_footer_is_outside_the_body() -> None:
    a = parse(PHONE_EMAIL)
    assert PHONE_EMAIL[a.body_start : a.body_end] == "Please vote against the bill on Tuesday."
    assert a.salutation == "Hi Jane" and a.closing == "Thanks" and a.sender_name == "Sam"
    _check(PHONE_EMAIL, a, {}, [("email_signature", "Sent from my iPhone")])


def test_routing_lines_are_not_the_sender() -> None:
    a = parse(ROUTING)
    assert a.sender_name == "Jane Smith" and a.constituency == "Bristol West"
    _check(ROUTING, a, {}, [("contact", "cc: The Rt Hon Michael Gove MP"), ("contact", "Enc.")])


@pytest.mark.parametrize(
    ("name_line", "name"),
    [
        ("L0UISE MENSCH", "Louise Mensch"),  # an OCR'd name is not a postcode
        ("LOUISE MENSCH", "Louise Mensch"),
        ("MR lAN LAVERY", "Ian Lavery"),  # "I" read as "l"
        ("Nick de Bois", "Nick de Bois"),
    ],
)
def test_ocr_name_block_beats_first_name_signature(name_line: str, name: str) -> None:
    text = (
        "HOUSE OF COMMONS\nLONDON SW1A 0AA\n\nDear Constituent,\n\nThank you.\n\n"
        f"Yours ever,\n\nLouise\n\n{name_line}\nMember of Parliament for Corby\n"
    )
    a = parse(text)
    assert a.sender_name == name
    assert a.constituency == "Corby"
    _check(text, a, {}, [("signature", "Louise"), ("name", name_line, name)])


_COMMENT_BODY = (
    "The Federal Communications Commission should preserve the net neutrality rules that "
    "protect consumers and small businesses. I urge you to keep the Title II classification."
)


@pytest.mark.parametrize(
    ("tail", "name"),
    [
        ("\n\nPat Lee\n22224\n", "Pat Lee"),  # a name over a ZIP code
        ("\n\nPat Lee\nColumbus, OH 43215\n", "Pat Lee"),  # over a town and ZIP
        ("\n\nPat Lee\npat.lee@example.com\n", "Pat Lee"),  # over an email address
        ("\n\nAnn Lee-Jones\n12 High Street\nSpringfield SP1 2AB\n", "Ann Lee-Jones"),
        ("\n\nMary Jones\nBoise, ID\n", "Mary Jones"),  # over a town and state
        ("\n\nMary Jones\nDayton, Ohio\n", "Mary Jones"),
        ("\n\nPat Lee\n", "Pat Lee"),  # a name alone, under a sentence's end
        ("\n\nJ. R. Smith\n\n", "J. R. Smith"),
        # surnames that are also address words, where a name is expected
        ("\n\nEve Park\n", "Eve Park"),
        ("\n\nJane Hill\nBoise, ID\n", "Jane Hill"),
        ("\n\nSincerely,\n\nSun Park\n", "Sun Park"),
        ("\n\nMARY JONES\n", "Mary Jones"),  # in capitals
        ("\n\nThanks, Mary Jones\n", "Mary Jones"),  # a weak sign-off and a name
        ("\n\nThank you, Mary A. Jones\n", "Mary A. Jones"),
        ("\n\n- Mary Jones\n", "Mary Jones"),  # a dash before it
        ("\n\nMary Jones, Boise ID\n", "Mary Jones"),  # the town on the name's line
        ("\n\nMary Jones, Boise, ID 83702\n", "Mary Jones"),
        ("\n\nMary Jones, Dayton, Ohio\n", "Mary Jones"),
        ("\n\nRespectfully submitted,\nMary Jones\n", "Mary Jones"),
    ],
)
def test_a_comment_signed_without_a_sign_off(tail: str, name: str) -> None:
    """Public comments often end with the sender's name over an address line and no
    "Sincerely": that block is the sender's, not the body's."""
    a = parse(_COMMENT_BODY + tail)
    assert a.sender_name == name
    assert (_COMMENT_BODY + tail)[a.body_start : a.body_end] == _COMMENT_BODY


@pytest.mark.parametrize(
    "tail",
    [
        "\n\nKeep Title II\nNow\n",  # no address under it
        "\n\nProtect Public Lands\n",  # a slogan alone reads as a name, but for its words
        "\n\nNet Neutrality Now\n",
        "\n\nTHANK YOU\n",
        "\n\nPat\n",  # one word
        "\n\nWe Stand Together Against This Rule\n",  # too many words
        "\n\nSee the attached\n\nPat Lee\n",  # alone, under no sentence's end
        "\n\nVote Yes\n2024\n",  # a year is not an address
        "\nPat Lee\n22224\n",  # not a paragraph of its own
        "\n\nSave the internet for everyone.\n22224\n",  # a sentence, not a name
        "\n\nGreen Lane\n",  # an address word first is no given name
        "\n\nThank you, Chairman Pai\n",  # thanks to the recipient, not a signature
        "\n\nThank you, Commissioners.\n",
        "\n\nThanks, Protect Wolves\n",  # a slogan
        "\n\n- Protect Wolves\n",
        "\n\nMary Jones, please help\n",  # words after the comma that are no town
    ],
)
def test_a_last_paragraph_that_is_not_a_signature_stays_in_the_body(tail: str) -> None:
    text = _COMMENT_BODY + tail
    a = parse(text)
    assert a.sender_name is None
    assert text[a.body_start : a.body_end] == text.rstrip("\n")


@pytest.mark.parametrize(
    ("block", "name", "place"),
    [
        ("Damian Green MP\nMember of Parliament for Ashford", "Damian Green", "Ashford"),
        ("Damian Green\nMember of Parliament for Ashford", "Damian Green", "Ashford"),
        ("Keith Hill\nMP for Streatham", "Keith Hill", "Streatham"),
        ("Jane Smith\nMember of Parliament for Ashford", "Jane Smith", "Ashford"),
        (
            "Chris\n\nCHRIS GREEN\nMember of Parliament for Bolton West",
            "Chris Green",
            "Bolton West",
        ),
    ],
)
def test_an_mp_whose_surname_is_a_place_word_is_the_sender(
    block: str, name: str, place: str
) -> None:
    """Five MPs of the bundled register are named Green or Hill, words that address
    lines end in: under the sign-off, over a role line, the line is their name."""
    body = "Thank you for contacting me about the badger cull.\n\nI will keep your views in mind."
    text = f"Dear Mr Jones,\n\n{body}\n\nYours sincerely,\n\n{block}\n"
    a = parse(text)
    assert (a.sender_name, a.constituency) == (name, place)
    assert text[a.body_start : a.body_end] == body


@pytest.mark.parametrize(
    ("written", "read"),
    [
        ("Dear Sir or Madarn", "Dear Sir or Madam"),  # OCR: rn for m
        ("Dcar Constituent", "Dear Constituent"),
        ("Dear Constitucnt", "Dear Constituent"),
        ("DEAR SIR OR MADAM", "Dear Sir or Madam"),
        ("Dear Sir/Madarn", "Dear Sir/Madam"),
        ("Dcar Pat", "Dear Pat"),  # "Dear" misread before a name
        ("Dear Kirn", "Dear Kirn"),  # a name is kept as written: it may be spelled so
        ("Dear Friends", "Dear Friends"),  # not a misread "Dear Friend"
        ("Dear Constance", "Dear Constance"),  # a name near a stock word
        ("Dear Madan", "Dear Madan"),  # a short one is matched exactly only
        ("Dear Siri", "Dear Siri"),
        ("Dear Ali", "Dear Ali"),
        ("Dcar Sir", "Dear Sir"),
    ],
)
def test_stock_salutations_are_read_through_ocr_noise(written: str, read: str) -> None:
    text = f"{written},\n\nThank you for writing to me about the closure of the library.\n"
    a = parse(text)
    assert a.salutation == read
    assert text[a.body_start : a.body_end].startswith("Thank you")
