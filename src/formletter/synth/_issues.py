"""The policy areas and issues synthetic letters are about.

Each area is a department, its minister and an agency; each issue is one row of
``|``-separated fields: subject (what a letter is "about"), a short noun phrase, the
concern, who is affected, the goal, a named policy, then ``;``-separated measures.
:data:`ISSUE_SINCE` keeps letters from writing about an issue before its time.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["AREAS", "ISSUE_SINCE", "Area", "Issue"]


@dataclass(frozen=True, slots=True)
class Issue:
    subject: str  # after "about": "the future of rural bus services"
    short: str  # a noun phrase: "rural bus services"
    concern: str  # what worries people: "cuts to supported routes"
    group: str  # who is affected: "passengers in rural areas"
    goal: str  # what everyone wants: "a reliable and affordable network"
    policy: str  # a named policy: "the Bus Services Act"
    measures: tuple[str, ...]  # things done: "£220 million to protect routes"


@dataclass(frozen=True, slots=True)
class Area:
    actor: str
    minister: str
    body: str
    issues: tuple[Issue, ...]


def _issue(row: str) -> Issue:
    fields = [f.strip() for f in row.split("|")]
    if len(fields) != 7:
        raise ValueError(f"an issue needs 7 fields: {row!r}")
    *head, measures = fields
    subject, short, concern, group, goal, policy = head
    return Issue(
        subject, short, concern, group, goal, policy, tuple(m.strip() for m in measures.split(";"))
    )


def _area(actor: str, minister: str, body: str, *rows: str) -> Area:
    return Area(actor, minister, body, tuple(_issue(r) for r in rows))


AREAS: tuple[Area, ...] = (
    _area(
        "the Department of Health and Social Care",
        "the Health Secretary",
        "NHS England",
        (
            "mental health services for children and young people | children's mental health | long"
            " waits for specialist treatment | young people and their families | timely support in "
            "every school | the Five Year Forward View for Mental Health | new mental health "
            "support teams in schools; a four-week waiting time standard for specialist services; "
            "an extra £1.4 billion for children's mental health"
        ),
        (
            "access to GP appointments | GP access | the difficulty of getting an appointment | "
            "patients in towns and villages | a sustainable general practice | the GP Forward View "
            "| 5,000 additional doctors in general practice; evening and weekend appointments; "
            "funding for practice pharmacists"
        ),
        (
            "cancer waiting times | cancer treatment | delays between referral and treatment | "
            "patients and their carers | earlier diagnosis for every patient | the Cancer Strategy "
            "| new rapid diagnostic centres; investment in radiotherapy equipment; a faster "
            "diagnosis standard"
        ),
        (
            "hospital car parking charges | hospital parking | the cost of parking for patients and"
            " visitors | disabled people, frequent outpatients and staff on night shifts | fair and"
            " transparent charging | the NHS car parking principles | free parking for blue badge "
            "holders; concessions for the parents of sick children"
        ),
        (
            "access to NHS dentistry | NHS dentistry | the shortage of dentists accepting NHS "
            "patients | families who cannot afford private treatment | a dental contract that "
            "rewards prevention | the dental contract reform programme | prototype practices "
            "testing a new contract; additional training places for dentists"
        ),
        (
            "the funding of adult social care | social care | the catastrophic cost of care in old "
            "age | older people and those who look after them | a long-term settlement for social "
            "care | the forthcoming social care Green Paper | an additional £2 billion for "
            "councils; a cap on lifetime care costs; the Better Care Fund"
        ),
        (
            "support for unpaid carers | unpaid carers | the strain placed on family carers | the "
            "six and a half million people who care for a relative | proper recognition for carers "
            "| the Carers Action Plan | funding for respite breaks; a review of Carer's Allowance"
        ),
    ),
    _area(
        "the Department for Education",
        "the Education Secretary",
        "Ofsted",
        (
            "school funding | school budgets | real-terms pressure on school budgets | head "
            "teachers, parents and pupils | fair funding for every school | the national funding "
            "formula | an extra £1.3 billion for schools; a minimum per-pupil funding level; "
            "support for teachers' pay awards"
        ),
        (
            "provision for children with special educational needs | SEND provision | the delays in"
            " assessments and education, health and care plans | children with special educational "
            "needs and disabilities | the right support at the right time | the SEND reforms | £365"
            " million for new specialist places; an additional £250 million for high needs budgets"
        ),
        (
            "university tuition fees | tuition fees | the level of debt with which graduates start "
            "their careers | students from low-income backgrounds | a fair deal for students and "
            "taxpayers | the review of post-18 education and funding | a freeze in the fee cap; a "
            "higher repayment threshold"
        ),
        (
            "free school meals | school meals | children going hungry during the school holidays | "
            "low-income families | a healthy meal for every child who needs one | the holiday "
            "activities and food programme | universal infant free school meals; funding for "
            "breakfast clubs"
        ),
        (
            "the teaching of relationships and sex education | relationships education | the "
            "content of the new curriculum and the role of parents | parents, pupils and faith "
            "schools | age-appropriate teaching in every school | the statutory guidance on "
            "relationships education | a consultation with parents on the guidance; training for "
            "teachers delivering the subject"
        ),
    ),
    _area(
        "the Department for Transport",
        "the Transport Secretary",
        "the Office of Rail and Road",
        (
            "the future of rural bus services | rural bus services | cuts to supported routes | "
            "passengers in rural areas | a reliable and affordable network | the Bus Services Act |"
            " £250 million a year for bus services; new powers for local authorities to franchise "
            "routes"
        ),
        (
            "rail fares | rail fares | above-inflation increases in the cost of season tickets | "
            "commuters | a railway that offers value for money | the Williams Rail Review | a cap "
            "on regulated fares in line with inflation; a new railcard for people aged 26 to 30"
        ),
        (
            "the High Speed 2 rail project | HS2 | the rising cost of the project and its effect on"
            " the countryside | residents along the route | more capacity on the rail network | the"
            " High Speed Rail Bill | an independent review of the project; a compensation scheme "
            "for affected homeowners"
        ),
        (
            "the condition of local roads | potholes | the damage caused by potholes to vehicles "
            "and cyclists | drivers and cyclists | safe and well-maintained roads | the Local "
            "Highways Maintenance Fund | an extra £420 million for road repairs; a six-year funding"
            " settlement for councils"
        ),
        (
            "the safety of cyclists | cycle safety | the number of cyclists killed or seriously "
            "injured | cyclists and pedestrians | safer streets for everyone | the Cycling and "
            "Walking Investment Strategy | a review of the Highway Code; £1.2 billion for cycling "
            "and walking"
        ),
    ),
    _area(
        "the Department for Environment, Food and Rural Affairs",
        "the Environment Secretary",
        "the Environment Agency",
        (
            "plastic pollution in our oceans | plastic pollution | the damage plastic waste does to"
            " marine life | coastal communities | an end to avoidable plastic waste | the Resources"
            " and Waste Strategy | a ban on microbeads; a deposit return scheme for drinks "
            "containers; the 5p carrier bag charge"
        ),
        (
            "sewage discharges into rivers | river pollution | untreated sewage entering our rivers"
            " and seas | swimmers and anglers | rivers that are clean and healthy | the Water "
            "Industry National Environment Programme | monitoring of storm overflows; tougher "
            "enforcement against water companies"
        ),
        (
            "air quality | air pollution | the harm dirty air does to children's health | people "
            "living near busy roads | clean air in every town and city | the Clean Air Strategy | "
            "£3.5 billion to improve air quality; an end to the sale of new petrol and diesel cars"
        ),
        (
            "flood defences | flood defences | the risk of flooding to homes and businesses | "
            "households at risk of flooding | resilient communities | the Flood and Coastal Erosion"
            " Risk Management Strategy | £2.6 billion for new defences; the Flood Re insurance "
            "scheme"
        ),
        (
            "the use of glyphosate | glyphosate | the possible effects of pesticides on health and "
            "pollinators | farmers and gardeners | evidence-based regulation of pesticides | the "
            "National Pollinator Strategy | restrictions on neonicotinoids; independent scientific "
            "advice"
        ),
        (
            "food labelling | food labelling | misleading labels on food | shoppers with allergies "
            "| clear and honest labelling | the Food Information Regulations | full ingredient "
            "labelling for pre-packed food; mandatory method of production labels"
        ),
    ),
    _area(
        "the Department for Environment, Food and Rural Affairs",
        "the Animal Welfare Minister",
        "the Animal and Plant Health Agency",
        (
            "the export of live animals for slaughter | live exports | the suffering of animals on "
            "long journeys | farmers and animal lovers | the highest standards of animal welfare | "
            "the review of animal welfare in transport | a consultation on ending live exports; "
            "stricter journey limits"
        ),
        (
            "trophy hunting | trophy hunting | the import of hunting trophies from endangered "
            "species | conservationists | an end to the trade in hunting trophies | the proposed "
            "ban on trophy imports | a call for evidence on trophy imports; support for "
            "conservation programmes"
        ),
        (
            "sentences for animal cruelty | animal cruelty | the lenient sentences handed to people"
            " who abuse animals | pet owners and animal charities | punishments that fit the crime "
            "| the Animal Welfare (Sentencing) Bill | an increase in the maximum sentence to five "
            "years; Finn's Law to protect service animals"
        ),
        (
            "the badger cull | the badger cull | the effectiveness and humaneness of culling | "
            "cattle farmers and wildlife groups | the eradication of bovine TB | the bovine TB "
            "strategy | a badger vaccination programme; tighter cattle movement controls"
        ),
        (
            "puppy farming and third-party sales | puppy farming | dogs bred in poor conditions and"
            " sold by dealers | dog owners | responsible breeding | Lucy's Law | a ban on "
            "third-party sales of puppies and kittens; new licensing rules for breeders"
        ),
    ),
    _area(
        "the Department for Business, Energy and Industrial Strategy",
        "the Business and Energy Secretary",
        "Ofgem",
        (
            "the target of net zero emissions | net zero | the pace of progress in cutting "
            "emissions | future generations | a cleaner and greener economy | the Clean Growth "
            "Strategy | a legally binding target for 2050; support for offshore wind; the phasing "
            "out of coal power"
        ),
        (
            "shale gas extraction | fracking | earth tremors and the impact on local communities | "
            "residents near proposed sites | safe and environmentally sound energy | the traffic "
            "light system for seismic activity | a moratorium on new fracking; strict planning and "
            "environmental controls"
        ),
        (
            "onshore wind | onshore wind | planning restrictions on new turbines | rural "
            "communities | cheap, clean electricity | the Contracts for Difference scheme | "
            "community benefit funds; changes to planning guidance"
        ),
        (
            "rising energy bills | energy bills | the number of households in fuel poverty | "
            "pensioners and families on low incomes | fair prices for every customer | the energy "
            "price cap | the Warm Home Discount; an expanded energy efficiency programme"
        ),
        (
            "zero-hours contracts | zero-hours contracts | insecure work and unpredictable hours | "
            "workers in the gig economy | fair and decent work | the Good Work Plan | a right to "
            "request a stable contract; stronger enforcement of employment rights"
        ),
        (
            "the gender pay gap | the gender pay gap | the persistent gap between men's and women's"
            " pay | working women | equal pay for equal work | the gender pay gap reporting "
            "regulations | mandatory reporting for large employers; funding for returners' "
            "programmes"
        ),
        (
            "the National Living Wage | the minimum wage | low pay and the rising cost of living | "
            "the lowest paid | a wage that people can live on | the National Living Wage | an "
            "increase to £8.21 an hour; naming and shaming employers who underpay"
        ),
    ),
    _area(
        "the Home Office",
        "the Home Secretary",
        "the independent inspectorates",
        (
            "the Windrush generation | the Windrush scandal | the treatment of long-standing "
            "residents by the immigration system | members of the Windrush generation | justice for"
            " everyone who was wronged | the Windrush Lessons Learned Review | a compensation "
            "scheme; a dedicated taskforce to help people prove their status"
        ),
        (
            "the resettlement of refugees | refugee resettlement | the plight of people fleeing "
            "conflict | refugees and unaccompanied children | safe and legal routes to sanctuary | "
            "the Vulnerable Persons Resettlement Scheme | the resettlement of 20,000 Syrians; "
            "support for councils that take refugees"
        ),
        (
            "police funding | police numbers | the pressure on frontline policing | police officers"
            " and the communities they serve | visible neighbourhood policing | the police funding "
            "settlement | 20,000 additional officers; an extra £970 million for forces"
        ),
        (
            "knife crime | knife crime | the rise in serious violence among young people | young "
            "people and their families | safer streets | the Serious Violence Strategy | knife "
            "crime prevention orders; an Early Intervention Youth Fund"
        ),
        (
            "the treatment of EU citizens living in the UK | EU citizens' rights | uncertainty "
            "about the right to stay | EU nationals and their families | certainty for everyone who"
            " has made their home here | the EU Settlement Scheme | a free application process; "
            "settled status for people with five years' residence"
        ),
    ),
    _area(
        "the Ministry of Justice",
        "the Justice Secretary",
        "Her Majesty's Prison and Probation Service",
        (
            "legal aid | legal aid | the reduction in the scope of civil legal aid | people who "
            "cannot afford a lawyer | access to justice for all | the Legal Support Action Plan | a"
            " review of the means test; £8 million for legal support"
        ),
        (
            "safety in prisons | prison safety | the levels of violence and drug use behind bars | "
            "prison officers and prisoners | safe and decent prisons | the prison safety and reform"
            " programme | 2,500 additional prison officers; airport-style security scanners"
        ),
        (
            "the reform of probation services | probation | the performance of community "
            "rehabilitation companies | offenders and victims | fewer victims and less reoffending "
            "| the Transforming Rehabilitation programme | bringing offender management back into "
            "public hands; a new national probation service"
        ),
    ),
    _area(
        "the Department for Work and Pensions",
        "the Work and Pensions Secretary",
        "the Social Security Advisory Committee",
        (
            "Universal Credit | Universal Credit | the five-week wait for a first payment | "
            "claimants moving from the old benefits | a system that makes work pay | the managed "
            "migration pilot | advance payments; a reduced taper rate; an increase in work "
            "allowances"
        ),
        (
            "changes to the state pension age for women born in the 1950s | the state pension age |"
            " the lack of notice given to the women affected | women born in the 1950s | fairness "
            "between generations | the Pensions Act 2011 | transitional arrangements capping the "
            "increase at 18 months; the new state pension"
        ),
        (
            "assessments for Personal Independence Payment | PIP assessments | the accuracy of "
            "assessments and the number of decisions overturned on appeal | disabled people | a "
            "fair and accurate assessment for every claimant | the independent review of PIP | "
            "video recording of assessments; fewer reassessments for people with severe conditions"
        ),
        (
            "the growing use of food banks | food banks | the number of families who rely on "
            "emergency food parcels | families in crisis | a safety net that catches people | the "
            "local welfare assistance schemes | faster benefit payments; funding for holiday hunger"
            " projects"
        ),
    ),
    _area(
        "the Ministry of Housing, Communities and Local Government",
        "the Housing Secretary",
        "the Regulator of Social Housing",
        (
            "leasehold reform | leasehold | onerous ground rents and unfair charges | leaseholders "
            "| a fairer deal for homeowners | the leasehold reform programme | a ban on leasehold "
            "for new houses; ground rents reduced to zero"
        ),
        (
            "rough sleeping | rough sleeping | the number of people sleeping on our streets | "
            "homeless people | an end to rough sleeping | the Rough Sleeping Strategy | the "
            "Homelessness Reduction Act; £100 million for support and accommodation"
        ),
        (
            "the removal of unsafe cladding | building safety | dangerous cladding on high-rise "
            "blocks | residents of high-rise buildings | homes that are safe | the review of "
            "building regulations | £400 million to remove cladding from social housing; a ban on "
            "combustible materials"
        ),
        (
            "the end of no-fault evictions | private renting | the insecurity faced by private "
            "tenants | renters | a fair deal for tenants and landlords | the proposed reform of "
            "section 21 | a ban on letting fees; longer tenancies"
        ),
        (
            "the closure of public libraries | libraries | the closure of branch libraries | "
            "readers of all ages | a comprehensive and efficient library service | the Libraries "
            "Taskforce | funding for library innovation; guidance to councils on their statutory "
            "duty"
        ),
    ),
    _area(
        "the Foreign and Commonwealth Office",
        "the Foreign Secretary",
        "the Department for International Development",
        (
            "the humanitarian crisis in Yemen | Yemen | the suffering of civilians caught up in the"
            " conflict | the people of Yemen | a lasting political settlement | the Stockholm "
            "Agreement | £770 million in humanitarian aid; support for the UN peace process"
        ),
        (
            "arms sales to Saudi Arabia | arms exports | the use of British-made weapons in the "
            "conflict | civilians in conflict zones | one of the most rigorous export control "
            "regimes in the world | the Consolidated EU and National Arms Export Licensing Criteria"
            " | a review of extant licences; independent scrutiny by the Committees on Arms Export "
            "Controls"
        ),
        (
            "the commitment to spend 0.7 per cent of national income on aid | overseas aid | the "
            "effectiveness of aid spending | the world's poorest people | aid that is transparent "
            "and accountable | the International Development Act | funding for girls' education; "
            "support for the Global Fund"
        ),
        (
            "the persecution of Christians around the world | freedom of religion | the persecution"
            " of religious minorities | Christians and other minorities | freedom of religion or "
            "belief for all | the Bishop of Truro's independent review | a Special Envoy for "
            "Freedom of Religion or Belief; training for diplomats"
        ),
    ),
    _area(
        "the Department for Exiting the European Union",
        "the Brexit Secretary",
        "the European Commission",
        (
            "the proposal for a second referendum | a second referendum | the division the question"
            " has caused | voters on both sides | respect for the result of the referendum | the "
            "European Union (Withdrawal) Act | a meaningful vote for Parliament; an implementation "
            "period"
        ),
        (
            "our future customs arrangements with the EU | customs arrangements | the risk of "
            "delays at the border | manufacturers and exporters | frictionless trade | the "
            "Political Declaration | a free trade area for goods; a backstop for Northern Ireland"
        ),
    ),
    _area(
        "the Department for Digital, Culture, Media and Sport",
        "the Culture Secretary",
        "Ofcom",
        (
            "online harms | online safety | harmful content that children see online | children and"
            " vulnerable users | the internet being a safe place | the Online Harms White Paper | a"
            " new duty of care for tech companies; an independent regulator"
        ),
        (
            "fixed-odds betting terminals | gambling harm | the harm caused by high-stakes machines"
            " | problem gamblers and their families | a responsible gambling industry | the "
            "Gambling Act review | a cut in the maximum stake to £2; a levy to fund treatment"
        ),
        (
            "the BBC licence fee for the over-75s | free TV licences | the loss of free TV licences"
            " for older people | pensioners | the protection of older people from isolation | the "
            "BBC funding settlement | free licences for those receiving Pension Credit; a "
            "consultation by the BBC"
        ),
        (
            "rural broadband | broadband | slow connections in rural areas | rural households and "
            "businesses | full-fibre coverage | the Universal Service Obligation | gigabit "
            "vouchers; £5 billion for the hardest-to-reach areas"
        ),
    ),
    _area(
        "the Ministry of Defence",
        "the Defence Secretary",
        "the Office for Veterans' Affairs",
        (
            "the Armed Forces Covenant | the Armed Forces Covenant | the disadvantages faced by "
            "service families | service personnel, veterans and their families | fair treatment for"
            " those who serve | the Armed Forces Covenant | a guaranteed interview scheme for "
            "veterans; support with housing"
        ),
        (
            "the renewal of Trident | Trident | the cost of renewing the deterrent | defence "
            "workers and their families | a credible minimum deterrent | the Strategic Defence and "
            "Security Review | four new Dreadnought-class submarines; a contingency fund of £10 "
            "billion"
        ),
        (
            "the mental health of veterans | veterans' mental health | the wait for specialist "
            "treatment | veterans | care that meets veterans' needs | the Veterans Strategy | a "
            "24-hour helpline; a new complex treatment service"
        ),
    ),
    _area(
        "Her Majesty's Treasury",
        "the Chancellor",
        "HM Revenue and Customs",
        (
            "the loan charge | the loan charge | the impact on people who used disguised "
            "remuneration schemes | contractors and their families | a tax system that is fair | "
            "the Finance Act 2017 | an independent review; more time to pay"
        ),
        (
            "fuel duty | fuel duty | the cost of motoring | drivers and hauliers | lower costs for "
            "families | the fuel duty freeze | a freeze for the ninth year running; the fuel finder"
            " scheme"
        ),
        (
            "business rates | business rates | the burden on high street retailers | small "
            "businesses | thriving town centres | the business rates retail discount | a one-third "
            "cut in bills for small retailers; the Future High Streets Fund"
        ),
        (
            "tax avoidance | tax avoidance | aggressive avoidance by multinational companies | "
            "honest taxpayers | everyone paying their fair share | the Diverted Profits Tax | a "
            "digital services tax; new powers for HMRC"
        ),
    ),
    _area(
        "the Cabinet Office",
        "the Minister for the Constitution",
        "the Electoral Commission",
        (
            "votes at 16 | votes at 16 | young people's exclusion from elections | 16 and "
            "17-year-olds | a healthy democracy | the Representation of the People Act | "
            "citizenship education; a review of the franchise"
        ),
        (
            "voter identification at polling stations | voter ID | the risk that legitimate voters "
            "are turned away | electors without photographic identification | elections that are "
            "secure | the voter identification pilots | a free local electoral identity document; "
            "an evaluation by the Electoral Commission"
        ),
        (
            "reform of the House of Lords | Lords reform | the size of the second chamber | voters "
            "| a smaller and more effective chamber | the Lord Speaker's committee report | a cap "
            "of 600 members; a two-out, one-in principle"
        ),
    ),
)

#: the first year a letter about an issue makes sense (keyed by the issue's subject)
ISSUE_SINCE: dict[str, int] = {
    "the Windrush generation": 2018,
    "the proposal for a second referendum": 2016,
    "our future customs arrangements with the EU": 2016,
    "the treatment of EU citizens living in the UK": 2016,
    "Universal Credit": 2012,
    "online harms": 2017,
    "the target of net zero emissions": 2018,
    "the loan charge": 2017,
    "voter identification at polling stations": 2016,
    "the High Speed 2 rail project": 2010,
    "puppy farming and third-party sales": 2017,
    "the removal of unsafe cladding": 2017,
    "fixed-odds betting terminals": 2013,
    "the end of no-fault evictions": 2018,
    "the humanitarian crisis in Yemen": 2015,
    "arms sales to Saudi Arabia": 2015,
    "changes to the state pension age for women born in the 1950s": 2015,
    "assessments for Personal Independence Payment": 2013,
    "the BBC licence fee for the over-75s": 2015,
    "the resettlement of refugees": 2014,
    "the teaching of relationships and sex education": 2017,
    "plastic pollution in our oceans": 2015,
    "the badger cull": 2011,
    "shale gas extraction": 2011,
    "the National Living Wage": 2015,
    "the gender pay gap": 2016,
    "the reform of probation services": 2013,
}
