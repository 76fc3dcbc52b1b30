"""Built-in entities: number, email, phone, date and time, found in free text and normalised.

The same finders validate the answers of ask nodes, so "4 people", "tomorrow" and
"+44 20 7946 0958" are understood the same way in a question and in an intent's entities.
Dates need today's date (for "tomorrow", "Friday", "Dec 25"), which the caller passes in.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Collection, Iterator
from typing import Final, Literal

from engine.nlu.types import Entity

BuiltinKind = Literal["number", "email", "phone", "date", "time"]
BUILTINS: Final[tuple[BuiltinKind, ...]] = ("number", "email", "phone", "date", "time")
# Where candidates overlap, the earlier kind wins: a date's digits are not also a number.
_PRIORITY: Final[tuple[BuiltinKind, ...]] = ("email", "date", "time", "phone", "number")

_MONTHS: Final = {
    name: number
    for number, names in enumerate(
        (
            ("january", "jan"),
            ("february", "feb"),
            ("march", "mar"),
            ("april", "apr"),
            ("may",),
            ("june", "jun"),
            ("july", "jul"),
            ("august", "aug"),
            ("september", "sep", "sept"),
            ("october", "oct"),
            ("november", "nov"),
            ("december", "dec"),
        ),
        start=1,
    )
    for name in names
}
_WEEKDAYS: Final = {
    name: index
    for index, names in enumerate(
        (
            ("monday",),
            ("tuesday", "tues"),
            ("wednesday",),
            ("thursday", "thurs"),
            ("friday",),
            ("saturday",),
            ("sunday",),
        )
    )
    for name in names
}
_SMALL: Final = {
    word: n
    for n, word in enumerate(
        "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen "
        "sixteen seventeen eighteen nineteen".split()
    )
}
_TENS: Final = {w: 10 * n for n, w in enumerate("twenty thirty forty fifty sixty seventy eighty ninety".split(), 2)}

_M: Final = "|".join(sorted(_MONTHS, key=len, reverse=True))
_WD: Final = "|".join(sorted(_WEEKDAYS, key=len, reverse=True))
_ORD: Final = r"(?:st|nd|rd|th)?"
_DATE: Final = re.compile(
    rf"""(?<![\w/.-])(?:
      (?P<iso_y>\d{{4}})[-/](?P<iso_m>\d{{1,2}})[-/](?P<iso_d>\d{{1,2}})
    | (?P<n1>\d{{1,2}})(?P<sep>[/.-])(?P<n2>\d{{1,2}})(?P=sep)(?P<n3>\d{{4}}|\d{{2}})
    | (?P<s1>\d{{1,2}})/(?P<s2>\d{{1,2}})
    | (?P<mname>{_M})\.?\s+(?P<md>\d{{1,2}}){_ORD}(?:,?\s+(?P<my>\d{{4}}))?
    | (?P<dd>\d{{1,2}}){_ORD}\s+(?:of\s+)?(?P<dname>{_M})\.?(?:,?\s+(?P<dy>\d{{4}}))?
    | (?P<rel>day\s+after\s+tomorrow|day\s+before\s+yesterday|today|tonight|tomorrow|tmrw|yesterday)
    | in\s+(?P<count>\d{{1,3}}|a|an|{"|".join(_SMALL)})\s+(?P<unit>days?|weeks?)
    | (?:(?:next|this|on)\s+)?(?P<wd>{_WD})
    )(?![\w/-])""",
    re.IGNORECASE | re.VERBOSE,
)
_TIME: Final = re.compile(
    r"""(?<![\w:.])(?:
      (?P<h>\d{1,2})(?::|h)(?P<m>\d{2})(?::\d{2})?(?:\s*(?P<ap>[ap])\.?m\.?)?
    | (?P<h2>\d{1,2})\s*(?P<ap2>[ap])\.?m\.?
    | (?P<word>noon|midday|midnight)
    )(?![\w:])""",
    re.IGNORECASE | re.VERBOSE,
)
_EMAIL: Final = re.compile(r"(?<![\w.+-])[\w.+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}(?![\w-])")
_PHONE: Final = re.compile(r"(?<![\w+])(?:\+|00)?\(?\d[\d\s().-]{4,}\d(?![\w])")
_NUMBER: Final = re.compile(
    r"""(?<![\w.,-])(?P<num>-?\d{1,3}(?:,\d{3})+(?:\.\d+)?|-?\d+(?:[.,]\d+)?)(?![\w]|[.,]\d)
    | \b(?P<word>(?:twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety)(?:[\s-](?:one|two|three|four|five|six
        |seven|eight|nine))?|zero|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen
        |fourteen|fifteen|sixteen|seventeen|eighteen|nineteen)\b""",
    re.IGNORECASE | re.VERBOSE,
)


# ---- whole-answer parsers (ask validation) --------------------------------------------------


def parse_number(text: str) -> int | float | None:
    """The first number in the text ("4", "4 people", "3,5", "1,000", "twelve"), else None."""
    for entity in _numbers(text):
        return entity.value  # type: ignore[return-value]
    return None


def parse_email(text: str) -> str | None:
    """The first e-mail address in the text, else None."""
    match = _EMAIL.search(text)
    return match.group(0) if match else None


def parse_phone(text: str) -> str | None:
    """The first phone number (7 to 15 digits), normalised to digits with a leading + if given."""
    for entity in _phones(text):
        return str(entity.value)
    return None


def parse_date(text: str, today: dt.date, *, dayfirst: bool = True) -> dt.date | None:
    """The first date in the text: ISO, 25/12/2026, Dec 25, 25th of December, tomorrow, Friday."""
    for match in _DATE.finditer(text):
        found = _date_of(match, today, dayfirst)
        if found is not None:
            return found
    return None


def parse_time(text: str) -> dt.time | None:
    """The first time of day in the text: 14:30, 2pm, 2:30 p.m., 14h30, noon, midnight."""
    for match in _TIME.finditer(text):
        found = _time_of(match)
        if found is not None:
            return found
    return None


# ---- extraction from free text (NLU entities) -----------------------------------------------


def find_builtins(text: str, kinds: Collection[str], today: dt.date) -> list[Entity]:
    """The built-in entities of the given kinds, without overlaps, in text order."""
    finders: dict[BuiltinKind, Callable[[], Iterator[Entity]]] = {
        "email": lambda: _emails(text),
        "date": lambda: _dates(text, today),
        "time": lambda: _times(text),
        "phone": lambda: _phones(text),
        "number": lambda: _numbers(text),
    }
    taken: list[Entity] = []
    # Every kind claims its spans in priority order, even kinds not asked for, so a phone
    # number's digits never come back as a number just because phones were not requested.
    for kind in _PRIORITY:
        for found in finders[kind]():
            if all(found.end <= t.start or found.start >= t.end for t in taken):
                taken.append(found)
    return sorted((e for e in taken if e.entity in kinds), key=lambda e: e.start)


def _entity(kind: str, value: str | int | float, match: re.Match[str], group: int | str = 0) -> Entity:
    return Entity(
        entity=kind,
        value=value,
        text=match.group(group),
        start=match.start(group),
        end=match.end(group),
        extractor="builtin",
    )


def _emails(text: str) -> Iterator[Entity]:
    for match in _EMAIL.finditer(text):
        yield _entity("email", match.group(0), match)


def _dates(text: str, today: dt.date) -> Iterator[Entity]:
    for match in _DATE.finditer(text):
        found = _date_of(match, today, True)
        if found is not None:
            yield _entity("date", found.isoformat(), match)


def _times(text: str) -> Iterator[Entity]:
    for match in _TIME.finditer(text):
        found = _time_of(match)
        if found is not None:
            yield _entity("time", found.strftime("%H:%M"), match)


def _phones(text: str) -> Iterator[Entity]:
    for match in _PHONE.finditer(text):
        raw = match.group(0).rstrip(" .-(")
        digits = re.sub(r"\D", "", raw)
        international = raw.startswith(("+", "00"))
        if raw.startswith("00"):
            digits = digits[2:]
        separated = bool(re.search(r"[\s().-]", raw))
        # A bare run of digits is a phone number only when long or marked international;
        # otherwise "1000000" would be a phone and "25.12.2026" too.
        if not 7 <= len(digits) <= 15 or not (international or separated or len(digits) >= 10):
            continue
        if re.search(r"\d[.]\d", raw) and not international and " " not in raw:
            continue  # 12.345.678 is a number with separators, not a phone
        yield Entity(
            entity="phone",
            value=("+" if international else "") + digits,
            text=raw,
            start=match.start(),
            end=match.start() + len(raw),
            extractor="builtin",
        )


def _numbers(text: str) -> Iterator[Entity]:
    for match in _NUMBER.finditer(text):
        if match.group("num"):
            raw = match.group("num")
            if re.fullmatch(r"-?\d{1,3}(?:,\d{3})+(?:\.\d+)?", raw):
                raw = raw.replace(",", "")  # thousands separators
            else:
                raw = raw.replace(",", ".")  # a decimal comma
            number = float(raw)
            yield _entity("number", int(number) if number.is_integer() and "." not in raw else number, match, "num")
        else:
            words = re.split(r"[\s-]+", match.group("word").lower())
            value = sum(_TENS.get(w, _SMALL.get(w, 0)) for w in words)
            yield _entity("number", value, match, "word")


def _date_of(match: re.Match[str], today: dt.date, dayfirst: bool) -> dt.date | None:
    g = match.groupdict()
    try:
        if g["iso_y"]:
            return dt.date(int(g["iso_y"]), int(g["iso_m"]), int(g["iso_d"]))
        if g["n1"]:
            day, month = _day_month(int(g["n1"]), int(g["n2"]), dayfirst)
            year = int(g["n3"])
            return dt.date(year + 2000 if year < 100 else year, month, day)
        if g["s1"]:
            day, month = _day_month(int(g["s1"]), int(g["s2"]), dayfirst)
            return _upcoming(today, month, day)
        if g["mname"]:
            month = _MONTHS[g["mname"].lower()]
            if g["my"]:
                return dt.date(int(g["my"]), month, int(g["md"]))
            return _upcoming(today, month, int(g["md"]))
        if g["dname"]:
            month = _MONTHS[g["dname"].lower()]
            if g["dy"]:
                return dt.date(int(g["dy"]), month, int(g["dd"]))
            return _upcoming(today, month, int(g["dd"]))
    except ValueError:
        return None  # 31/02, month 13
    if g["rel"]:
        rel = " ".join(g["rel"].lower().split())
        offset = {"day after tomorrow": 2, "day before yesterday": -2, "tomorrow": 1, "tmrw": 1, "yesterday": -1}
        return today + dt.timedelta(days=offset.get(rel, 0))
    if g["count"]:
        count = g["count"].lower()
        n = int(count) if count.isdigit() else _SMALL.get(count, 1)
        return today + dt.timedelta(days=n * (7 if g["unit"].lower().startswith("week") else 1))
    if g["wd"]:
        ahead = (_WEEKDAYS[g["wd"].lower()] - today.weekday()) % 7
        return today + dt.timedelta(days=ahead or 7)  # "Friday" said on a Friday means next week's
    return None


def _day_month(first: int, second: int, dayfirst: bool) -> tuple[int, int]:
    """Day-first unless only the month-first reading is possible (12/25)."""
    if first <= 12 < second or (not dayfirst and second <= 12 and first <= 12):
        return second, first
    return first, second


def _upcoming(today: dt.date, month: int, day: int) -> dt.date:
    """A date without a year is its next occurrence, today included."""
    candidate = dt.date(today.year, month, day) if _valid(today.year, month, day) else None
    if candidate is not None and candidate >= today:
        return candidate
    for year in range(today.year + 1, today.year + 9):  # Feb 29 comes back within 8 years
        if _valid(year, month, day):
            return dt.date(year, month, day)
    raise ValueError("no such day")


def _valid(year: int, month: int, day: int) -> bool:
    try:
        dt.date(year, month, day)
    except ValueError:
        return False
    return True


def _time_of(match: re.Match[str]) -> dt.time | None:
    g = match.groupdict()
    if g["word"]:
        return dt.time(0, 0) if g["word"].lower() == "midnight" else dt.time(12, 0)
    hour = int(g["h"] or g["h2"])
    minute = int(g["m"] or 0)
    meridiem = (g["ap"] or g["ap2"] or "").lower()
    if meridiem:
        if not 1 <= hour <= 12:
            return None
        hour = hour % 12 + (12 if meridiem == "p" else 0)
    if hour > 23 or minute > 59:
        return None
    return dt.time(hour, minute)
