"""The phrase bank the synthetic templates are built from (issues: :mod:`._issues`).

Sentence frames name the fields they need
in ``{braces}``; a capitalised field (``{Actor}``) asks for the value with a capital
first letter. Generic fields (``{adj}``, ``{amount}``, ``{year}`` ...) are drawn fresh
for every sentence from :data:`GENERIC`. The four slot markers ``{constituency}``,
``{sender}``, ``{date}`` and ``{place}`` survive into the template and are filled per
letter (slot fillers are template text, not the sender's own words).

Stock phrases (openings, closings, a few middles) are deliberately shared by every
template: they are the boilerplate that must not glue families together.
"""

from __future__ import annotations

__all__ = [
    "CAMPAIGN_WORDS",
    "CLOSE_EXTRA",
    "CONTEXT",
    "FIRST_NAMES",
    "GENERIC",
    "GOVT",
    "HEADINGS_FAMILY",
    "HEADINGS_PERSONAL",
    "INTENSIFIERS",
    "LAST_NAMES",
    "LOCAL",
    "ORG_PATTERNS",
    "PERSONAL",
    "PLACE_PATTERNS",
    "SLOT_NAMES",
    "STOCK_CLOSINGS",
    "STOCK_MIDDLES",
    "STOCK_OPENINGS",
    "SYNONYMS",
    "VIEW",
]

SLOT_NAMES: tuple[str, ...] = ("constituency", "sender", "date", "place")

# Generic values, drawn per sentence. A field may appear in several frames.
GENERIC: dict[str, tuple[str, ...]] = {
    "adj": ("important", "vital", "serious", "significant", "pressing", "difficult", "complex"),
    "a_adj": (
        "an important",
        "a vital",
        "a serious",
        "a significant",
        "a pressing",
        "a difficult",
        "a complex",
        "an urgent",
    ),
    "adv": ("carefully", "closely", "very closely", "with great care"),
    "review": ("close", "careful", "constant", "regular"),
    "verb_commit": ("committed", "pledged", "promised", "set aside", "allocated", "provided"),
    "verb_goal": ("deliver", "secure", "achieve", "support", "work towards", "protect"),
    "verb_think": ("believe", "think", "feel", "am clear", "am convinced"),
    "period": (
        "over the last decade",
        "since 2010",
        "in recent years",
        "over the past five years",
        "during this Parliament",
        "in the last twelve months",
    ),
    "future": (
        "in the coming months",
        "over the next few years",
        "by the end of this Parliament",
        "as soon as possible",
        "in the near future",
        "before the end of the year",
    ),
    "year": tuple(str(y) for y in range(2005, 2020)),
    "n": ("two", "three", "four", "five", "six", "ten"),
    "pct": tuple(str(p) for p in (8, 12, 15, 18, 21, 24, 27, 30, 33, 38, 42, 46, 51, 57, 64, 71)),
    "amount": (
        "£20 million",
        "£45 million",
        "£80 million",
        "£120 million",
        "£250 million",
        "£400 million",
        "£650 million",
        "£1.1 billion",
        "£2.3 billion",
        "£3 billion",
    ),
    "stake": (
        "campaigners",
        "charities",
        "local authorities",
        "industry",
        "experts",
        "professional bodies",
        "the devolved administrations",
        "trade unions",
    ),
    "forum": (
        "in the House",
        "at Westminster",
        "in Parliament",
        "with ministerial colleagues",
        "during a recent debate",
        "at Prime Minister's Questions",
    ),
    "a_doc": ("a report", "a review", "an inquiry", "an evaluation", "a consultation"),
    "doc": ("report", "review", "consultation", "inquiry", "white paper", "evaluation"),
}

# Stock phrases shared by every template ({subject} is the subject).
STOCK_OPENINGS: tuple[str, ...] = (
    "Thank you for contacting me about {subject}.",
    "Thank you for your recent email about {subject}.",
    "Many thanks for getting in touch regarding {subject}.",
    "Thank you for taking the time to write to me about {subject}.",
    "I am grateful to you for contacting me about {subject}.",
    "Thank you for contacting me about {subject}.",
)
STOCK_MIDDLES: tuple[str, ...] = (
    "I appreciate the strength of feeling on this issue.",
    "I understand why this is an issue of concern to many people.",
    "This is an issue on which I have received a large amount of correspondence.",
    "I know that this is a matter which many of my constituents care deeply about.",
)
STOCK_CLOSINGS: tuple[str, ...] = (
    "I will continue to follow this issue closely.",
    "Thank you again for taking the time to contact me.",
    "Please be assured that I will keep your views in mind.",
    "I hope this helps to explain my position.",
    "I appreciate you taking the time to share your views with me.",
    "Thank you once again for writing to me on this important matter.",
    "Please do not hesitate to contact me again if I can be of any further assistance.",
)

# Template-specific frames: context (why it matters), government (what is done), view.
CONTEXT: tuple[str, ...] = (
    "I understand that many {group} are worried about {concern}, and I share the view that "
    "this must be addressed.",
    "There is no doubt that {concern} is {a_adj} problem, and one that has grown {period}.",
    "Figures published by {body} show that {pct} per cent of {group} were affected in {year}.",
    "{Stake} have long argued that {concern} deserves far more attention than it receives.",
    "It is clear that {short} is {a_adj} issue for {group} across the country.",
    "Concerns about {concern} have been raised with me by {stake} as well as by constituents.",
    "The most recent {doc} from {body} highlighted {concern} as an area needing improvement.",
    "Many {group} have told me that {concern} has made their lives considerably harder.",
    "I recognise that {short} has been the subject of a great deal of debate {period}.",
    "Behind every statistic on {short} there are {group} whose experiences must be heard.",
    "According to {stake}, the number of {group} affected has risen by {pct} per cent {period}.",
    "The question of {short} goes to the heart of what we expect from public services.",
    "Nobody should underestimate the effect that {concern} can have on {group}.",
    "{A_doc} published in {year} found that progress on {short} had been uneven.",
    "Some have suggested that {concern} reflects decisions taken {period}, and I understand "
    "that argument.",
    "I know that {group} want to see {goal}, and that is an aim I share.",
    "The challenges around {short} are long-standing and will not be solved overnight.",
    "It is worth remembering that {short} was identified as a priority by {body} in {year}.",
    "Evidence gathered by {stake} suggests that {concern} is most acute in some regions.",
    "I have always believed that {group} deserve {goal}.",
    "The scale of {concern} should not be underestimated, particularly for {group}.",
    "Debate on {short} has too often generated more heat than light.",
    "The case for {goal} has been made persuasively by {stake} and by {group} themselves.",
    "While there has been some progress, {concern} remains {a_adj} challenge.",
)
GOVT: tuple[str, ...] = (
    "{Actor} has {verb_commit} {amount} to {verb_goal} {goal} over the next {n} years.",
    "The Government has made clear that {policy} will help to {verb_goal} {goal}.",
    "I welcome the introduction of {measure}, which I believe will make a real difference to "
    "{group}.",
    "Ministers have also announced {measure}, building on {policy}.",
    "{Minister} has confirmed that {actor} will keep {short} under {review} review.",
    "In addition, {actor} has {verb_commit} {amount} for {measure}.",
    "{Policy} sets out how the Government intends to {verb_goal} {goal} {future}.",
    "The Government is working with {stake} and {body} to tackle {concern}.",
    "I am pleased that {measure} will be in place {future}.",
    "{Minister} has written to {stake} to set out the next steps on {short}.",
    "As part of {policy}, {actor} has introduced {measure}.",
    "{Body} has been asked to report on {short} {future}.",
    "A further {doc} on {short} is expected {future}, and I will study it {adv}.",
    "The Government has also {verb_commit} {amount} to fund {measure}.",
    "These measures are backed by {amount} of new investment {future}.",
    "I understand that {actor} is considering {measure} as part of its response.",
    "Since {year}, {actor} has taken steps to {verb_goal} {goal}, including {measure}.",
    "{Minister} has said that tackling {concern} is a personal priority.",
    "{Actor} is also consulting on {measure}, and the consultation closes {future}.",
    "Alongside {measure}, the Government has asked {body} to publish regular updates.",
)
VIEW: tuple[str, ...] = (
    "I {verb_think} that we must do more to {verb_goal} {goal}.",
    "In my view, {measure} is a sensible step, but it must be properly funded.",
    "I will be watching {adv} to ensure that {policy} delivers for {group}.",
    "I have raised {short} {forum} and will continue to press for progress.",
    "My priority is to make sure that {group} see real improvements {future}.",
    "I do not believe that {concern} is acceptable, and I have said so {forum}.",
    "It is essential that the voices of {group} are heard as {policy} is taken forward.",
    "I {verb_think} that {goal} is achievable if the Government and {stake} work together.",
    "I support the aim of {policy}, although I recognise that some would like it to go further.",
    "I will continue to make the case for {goal} {forum}.",
    "I want to see {measure} delivered {future} so that {group} feel the benefit.",
    "I am not convinced that every concern about {short} has yet been answered.",
    "I have asked {minister} to meet {stake} to discuss {concern}.",
    "It is only right that {actor} is held to account for progress on {short}.",
    "I share your wish to see {goal}, and I will support measures that bring it closer.",
    "I {verb_think} that {measure} strikes the right balance.",
    "I will look {adv} at any proposals on {short} that come before Parliament.",
    "Getting this right for {group} matters more than any political point scoring.",
)
LOCAL: tuple[str, ...] = (
    "As the Member of Parliament for {constituency}, I know how much {short} matters to people "
    "here.",
    "I have spoken to families in {place} who have been directly affected by {concern}.",
    "On {date} I raised this matter directly with {minister}.",
    "Here in {constituency}, {group} have told me that {concern} is their biggest worry.",
    "I recently met representatives from {place} to hear their views on {short}.",
    "Please contact my office and a member of {sender}'s team will be happy to help.",
    "I met {stake} in {place} on {date} to discuss {short}.",
    "Constituents in {constituency} can be assured that I will keep pressing on {short}.",
)
OPEN2: tuple[str, ...] = (
    "I know that this is {a_adj} issue for many people.",
    "I appreciate you sharing your views on {short} with me.",
    "Your letter raises a number of {adj} points about {concern}.",
    "I am grateful for the opportunity to set out my position on {short}.",
)
CLOSE_EXTRA: tuple[str, ...] = (
    "I will keep a close eye on {short} in the months ahead.",
    "I hope that {policy} will go some way to addressing your concerns.",
    "I will continue to press {actor} on {concern}.",
    "Be assured that I will raise {short} with {minister} at the next opportunity.",
    "I will certainly bear your comments in mind when {short} is next debated.",
)

# Personal, per-letter paragraphs: the sender's own words (inserted text).
PERSONAL: tuple[str, ...] = (
    "I recently visited {org} and heard first hand from {people} about {short}.",
    "{Count} constituents have written to me about this in the last {span}, and I have passed "
    "their concerns on to {minister}.",
    "My own {relative} {experience}, so this is an issue that matters to me personally.",
    "I was pleased to meet {first} {last} from {org} last {weekday} to discuss what more could "
    "be done locally.",
    "I have also asked the House of Commons Library for an up-to-date briefing on {short}, "
    "which I would be happy to share with you.",
    "Locally, {org} is doing excellent work and I would encourage you to get in touch with them.",
    "I know from my postbag that {short} is a particular worry in {town}.",
    "I have tabled a written question on {short} and will write again when I receive an answer.",
    "You may be interested to know that I spoke in the debate on this subject in {month}.",
    "I also raised your point about {concern} with the minister's office on your behalf.",
    "When I was a {job} I saw for myself how {short} affects {people}.",
    "Last {weekday} I spent the morning with {people} at {org}, and their message was clear.",
    "I held a public meeting in {town} in {month} where {short} came up again and again.",
    "If you would like to come and see me at one of my advice surgeries in {town}, my office "
    "would be glad to arrange it.",
    "I have signed the letter organised by {first} {last} calling for action on {short}.",
    "Several {people} in {town} have contacted me about this, and I am grateful to all of them.",
    "I have visited {org} {times} this year and will be going back in {month}.",
    "Please pass on my thanks to everyone at {org} for their hard work.",
    "I was sorry to read about your own experience, and I have written to the relevant "
    "department asking them to look into it.",
    "Your point about the situation in {town} is well made and I will follow it up.",
    "I hope to see you at the {event} in {town} next {month}.",
    "I have asked my caseworker, {first}, to contact you directly about the issues you raise.",
    "As a {job} myself before entering Parliament, I have some understanding of these pressures.",
    "I have been in touch with {org} about what this means for {people} in {town}.",
)
PERSONAL_FILL: dict[str, tuple[str, ...]] = {
    "people": (
        "parents",
        "teachers",
        "nurses",
        "volunteers",
        "local business owners",
        "carers",
        "pensioners",
        "young people",
        "farmers",
        "shopkeepers",
        "residents",
        "students",
    ),
    "relative": ("mother", "father", "grandmother", "brother", "sister", "aunt", "son"),
    "experience": (
        "worked in this field for many years",
        "has been affected by this",
        "relied on these services for a long time",
        "spent a career in the public sector",
        "went through something very similar",
    ),
    "weekday": ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"),
    "month": (
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "September",
        "October",
        "November",
        "December",
    ),
    "job": ("teacher", "nurse", "councillor", "solicitor", "soldier", "small business owner"),
    "times": ("twice", "three times", "several times", "a number of times"),
    "event": ("summer fair", "community forum", "residents' meeting", "carol service", "jobs fair"),
    "span": ("month", "few weeks", "fortnight", "year", "six months"),
    "Count": ("Dozens of", "Over a hundred", "More than fifty", "Several hundred", "Many"),
}
FIRST_NAMES: tuple[str, ...] = (
    "Sarah",
    "James",
    "Aisha",
    "Tom",
    "Priya",
    "Gareth",
    "Fiona",
    "Daniel",
    "Grace",
    "Mohammed",
    "Helen",
    "Owen",
    "Chloe",
    "Ravi",
    "Bethan",
    "Liam",
    "Zainab",
    "Peter",
    "Niamh",
    "Callum",
)
LAST_NAMES: tuple[str, ...] = (
    "Hughes",
    "Patel",
    "Morgan",
    "O'Neill",
    "Campbell",
    "Ahmed",
    "Robinson",
    "Thompson",
    "Davies",
    "Kaur",
    "Fraser",
    "Wright",
    "Begum",
    "Evans",
    "MacDonald",
    "Clarke",
)
# {w} is a word taken from the sender's constituency.
PLACE_PATTERNS: tuple[str, ...] = (
    "{w} Community Centre",
    "{w} High Street",
    "{w} Library",
    "the {w} food bank",
    "{w} Primary School",
    "{w} Community Hospital",
    "{w} Town Hall",
    "the {w} Jobcentre",
    "{w} Fire Station",
    "{w} Leisure Centre",
)
ORG_PATTERNS: tuple[str, ...] = (
    "{w} Citizens Advice",
    "the {w} Residents' Association",
    "{w} Carers' Centre",
    "the {w} Rotary Club",
    "{w} Youth Project",
    "{w} Women's Institute",
    "the {w} Foodbank",
    "{w} Age UK",
    "{w} Chamber of Commerce",
    "the {w} Scout Group",
)
HEADINGS_FAMILY: tuple[str, ...] = (
    "A Response to the {Campaign} Campaign",
    "{Short}: My Position",
    "Re: {Short}",
    "{Campaign} - Response",
    "Your correspondence on {short}",
)
HEADINGS_PERSONAL: tuple[str, ...] = (
    "RE: Your email regarding {short}",
    "Re: {Short}",
    "Response to your letter of {month}",
    "Ref: {ref}",
    "Our ref: {ref}",
)
CAMPAIGN_WORDS: tuple[str, ...] = (
    "Fair Deal",
    "Not Border Guards",
    "Save Our",
    "Stop the",
    "Act Now on",
    "Justice for",
    "Speak Up for",
    "Time to Fix",
)

# Word edits: a template word and the words a sender may write instead (inserted text).
SYNONYMS: dict[str, tuple[str, ...]] = {
    "important": ("vital", "crucial", "essential", "key"),
    "significant": ("considerable", "substantial", "major"),
    "serious": ("grave", "real", "genuine"),
    "vital": ("essential", "crucial", "critical"),
    "concerns": ("worries", "anxieties", "fears"),
    "concern": ("worry", "anxiety"),
    "issue": ("matter", "question", "subject"),
    "believe": ("think", "feel"),
    "welcome": ("applaud", "support"),
    "clear": ("plain", "evident"),
    "recent": ("latest", "new"),
    "ensure": ("make certain", "guarantee"),
    "additional": ("extra", "further"),
    "carefully": ("closely", "thoroughly"),
    "closely": ("carefully", "attentively"),
    "difficult": ("hard", "challenging"),
    "pleased": ("glad", "delighted"),
    "problem": ("difficulty", "challenge"),
    "country": ("nation", "UK"),
    "families": ("households",),
    "real": ("genuine", "tangible"),
    "help": ("assist", "aid"),
    "progress": ("headway", "improvement"),
    "sensible": ("reasonable", "wise"),
    "press": ("push", "lobby"),
    "improvements": ("changes", "progress"),
    "aim": ("goal", "objective"),
    "views": ("opinions", "thoughts"),
    "grateful": ("thankful", "obliged"),
}
INTENSIFIERS: tuple[str, ...] = ("very", "genuinely", "really", "truly", "deeply", "extremely")
