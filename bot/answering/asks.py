"""What a question asks for (an amount, a duration, a person, a yes/no rule, a formula, a place) and whether
a candidate line holds that kind of thing.

"How late can a receipt be claimed?" asks a duration: the line that answers it says "60 days", while the
section on office equipment that shares its words says none. These are shapes of language, not facts of a
corpus: each kind pairs a pattern for the question with one for the answering line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Ask:
    name: str
    question: re.Pattern[str]  # the question asks this
    answer: re.Pattern[str]  # a line holds this


_MONEY = (
    r"(?:[$€£¥]|\b(?:USD|EUR|GBP|SGD|CHF|CAD|AUD|JPY|INR)\b)\s?\d"
    r"|\b\d[\d,]*(?:\.\d+)?\s?(?:%|percent\b|k\b|m\b|bps\b)"
)
_NUMBER = r"\b\d[\d,]*(?:\.\d+)?\b"
_UNIT = (
    r"(?:(?:business |calendar |working |banking |work )?(?:days?|weeks?|months?|years?|hours?|minutes?|quarters?)"
    r"|(?:work|week|business)days?|hrs?|mins?|yrs?|wks?)"
)
_ROLE = (
    r"\b(?:CFO|CEO|COO|CTO|CRO|VP|SVP|EVP|GC|Controller|Comptroller|Treasurer|Director|Head|Manager|Lead|Officer|"
    r"Chief|Owner|Approver|Accountant|Analyst|Partner|President|Committee|Board|[Tt]eam|[Dd]epartment|desk|"
    r"budget holder|cost[- ]centre owner|cost[- ]center owner|line manager|manager|approver|owner|finance|"
    r"procurement|treasury|payroll|legal|ops)\b"
)

ASKS = (
    Ask(
        "amount",
        re.compile(
            r"(?i)\bhow (?:much|many|big|high|large)\b|\b(?:limit|limits|threshold|cap|capped|max|maximum|min|minimum|"
            r"amount|fee|fees|rate|rates|cost|costs|price|percent|percentage|allowance|per diem|budget|spend|"
            r"reimburs\w*|ceiling|tolerance|materiality|discount)\b|%|\$"
        ),
        re.compile(rf"(?i){_MONEY}|{_NUMBER}"),
    ),
    Ask(
        "time",
        re.compile(
            r"(?i)\bhow (?:long|late|soon|early|often|frequently|quickly|fast)\b|\bwhen\b|\bby when\b|\bdeadline\b|"
            r"\bwithin\b|\bdue\b|\bschedule\w*\b|\bfrequency\b|\bretain\w*\b|\bretention\b|\bexpir\w*\b|"
            r"\bwindow\b|\bhow many (?:days|weeks|months|years|hours)\b|\bcut-?off\b|\bturnaround\b|\bsla\b"
        ),
        re.compile(
            rf"(?i)\b\d+\s*{_UNIT}\b|\b(?:daily|weekly|monthly|quarterly|annually|yearly|nightly|hourly|every\s+\w+|"
            r"each (?:day|week|month|quarter|year)|[BW]D-?\d+|T\+\d+|net \d+|"
            r"end of (?:the )?(?:day|week|month|quarter|year)|"
            r"(?:mon|tues|wednes|thurs|fri|satur|sun)days?|\d{1,2}(?::\d\d)?\s?(?:am|pm|utc|gmt|cet|et|pt)|"
            r"\d{1,2}(?:st|nd|rd|th)?\s+(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*|"
            r"(?:january|february|march|april|may|june|july|august|september|october|november|december)\s+\d{1,4})\b"
        ),
    ),
    Ask(
        "person",
        re.compile(
            r"(?i)\bwho\b|\bwhom\b|\bwhose\b|\bapprov\w*\b|\bsign(?:s|ed)?[- ]?off\b|\bsigns?\b|\bsignator\w*\b|"
            r"\bowner\b|\bowns?\b|\bresponsible\b|\baccountable\b|\bcontact\b|\bescalat\w*\b|\bauthori[sz]\w*\b"
        ),
        re.compile(_ROLE + r"|\b[A-Z][a-z]+ [A-Z][a-z]+\b"),
    ),
    Ask(
        "rule",
        re.compile(
            r"(?i)^\s*(?:(?:hey|hi|quick q|q)\W+)?(?:can|could|may|do|does|did|is|are|should|must|will|would|am|"
            r"need|have)\b|\b(?:allowed|permitted|ok to|okay to|required|require|mandatory|eligible|count|counts|"
            r"exempt|prohibited|banned)\b"
        ),
        re.compile(
            r"(?i)\b(?:must|may|may not|cannot|can't|can|not allowed|prohibited|required|requires|only|never|always|"
            r"not permitted|not eligible|eligible|is not|are not|does not|do not|don't|need to|needs to|shall|"
            r"excluded|included|exempt|counts?)\b"
        ),
    ),
    Ask(
        "formula",
        re.compile(
            r"(?i)\bhow (?:is|are|do we|do you|does)\b.*\b(?:calc\w*|comput\w*|work\w*|measur\w*|derive\w*|defin\w*|"
            r"figur\w*)|\bcalc\w*\b|\bcomput\w*\b|\bformula\b|\bdefin\w*\b|\bwhat (?:is|are|does|do)\b|\bwhats\b|"
            r"\bmean\w*\b|\bdifference\b|\bvs\b"
        ),
        re.compile(
            r"(?i)=|\s[/*×x]\s|\bdivided by\b|\bminus\b|\bplus\b|\btimes\b|\bmultiplied\b|\bover\b|"
            r"\bis (?:calculated|computed|defined|measured) (?:as|by|from|on)\b|\bmeans\b|\b(?:is|are) the\b|"
            r"\bsum of\b|\bshare of\b|\bratio of\b|\bnumber of\b|\bcount of\b"
        ),
    ),
    Ask(
        "place",
        re.compile(
            r"(?i)\bwhich (?:system|tool|app|platform|software|report|column|field|table|model|account|page|form|"
            r"channel|queue|portal)\b|\bwhere (?:do|does|is|are|can|should)\b|\bwhat (?:system|tool|column|field|"
            r"report|account)\b|\bin which\b"
        ),
        re.compile(
            r"\b[a-z]+_[a-z_]+\b|\b(?:column|field|report|system|tool|portal|account|queue|channel|form|via|in)\b|"
            r"\b[A-Z][a-z]+[A-Z]\w*\b|#[a-z][\w-]+|\b\d{4}\b"
        ),
    ),
)


# "how long", "how much", "how often": the word after "how" says what kind of answer is asked (see ASKS), it
# is not a subject the answer must mention ("keep them too long" does not answer "how long do we keep X").
HOW_WORDS = re.compile(
    r"(?i)\bhow\s+(long|much|many|often|soon|late|early|far|big|high|large|frequently|quickly|fast)\b"
)


def subject_words(question: str) -> str:
    """The question without the words that only say what kind of answer it asks for."""
    return HOW_WORDS.sub("how", question)


def asked(question: str) -> tuple[Ask, ...]:
    """The kinds of answer the question asks for (none for a plain "tell me about X")."""
    return tuple(ask for ask in ASKS if ask.question.search(question))
