"""Pure decisions of the flow runner: does a branch case hold, is an answer valid."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from typing import Any

from engine.flowspec import WEEKDAYS, AskNode, CaseSpec
from engine.nlu.builtins import parse_date, parse_email, parse_number, parse_phone, parse_time
from engine.nlu.types import Understanding
from engine.templates import evaluate


def case_holds(
    case: CaseSpec,
    *,
    slots: Mapping[str, Any],
    context: Mapping[str, Any],
    understanding: Understanding | None,
    channel: str,
    now: dt.datetime,
) -> bool:
    """True when every condition the case gives holds."""
    if case.slot is not None and not _slot_holds(case, slots.get(case.slot)):
        return False
    if case.intent is not None:
        wanted = {case.intent} if isinstance(case.intent, str) else set(case.intent)
        if understanding is None or understanding.intent not in wanted:
            return False
        if case.min_confidence is not None and understanding.confidence < case.min_confidence:
            return False
    if case.entity is not None and (understanding is None or understanding.entity(case.entity) is None):
        return False
    if case.channel is not None:
        wanted = {case.channel} if isinstance(case.channel, str) else set(case.channel)
        if channel not in wanted:
            return False
    if case.weekdays and WEEKDAYS[now.weekday()] not in case.weekdays:
        return False
    if (case.time_after or case.time_before) and not _time_holds(case, now.strftime("%H:%M")):
        return False
    return case.expr is None or bool(evaluate(case.expr, context))


def _slot_holds(case: CaseSpec, value: Any) -> bool:
    present = value is not None and value != "" and value != []
    if case.exists is not None:
        if present != case.exists:
            return False
    elif not present:
        return False  # every other comparison needs a value; a bare `slot` means "is filled"
    if not present:
        return True
    if case.equals is not None and not same(value, case.equals):
        return False
    if case.not_equals is not None and same(value, case.not_equals):
        return False
    if case.one_of and not any(same(value, option) for option in case.one_of):
        return False
    if case.matches is not None and not re.search(case.matches, str(value)):
        return False
    bounds = (case.gt, case.gte, case.lt, case.lte)
    if any(b is not None for b in bounds):
        number = _as_number(value)
        if number is None:
            return False
        gt, gte, lt, lte = bounds
        if (
            (gt is not None and not number > gt)
            or (gte is not None and not number >= gte)
            or (lt is not None and not number < lt)
            or (lte is not None and not number <= lte)
        ):
            return False
    return True


def same(value: Any, expected: Any) -> bool:
    """Equal as text ("Yes" == "Yes"), or as numbers ("42" == 42.0), or as booleans."""
    if isinstance(expected, bool) or isinstance(value, bool):
        return str(value).casefold() == str(expected).casefold()
    if str(value) == str(expected):
        return True
    left, right = _as_number(value), _as_number(expected)
    return left is not None and right is not None and left == right


def _as_number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    try:
        return float(str(value).strip())
    except ValueError:
        return None


def _time_holds(case: CaseSpec, hhmm: str) -> bool:
    after, before = case.time_after, case.time_before
    if after and before and after > before:  # 22:00 to 06:00 wraps midnight
        return hhmm >= after or hhmm < before
    return (after is None or hhmm >= after) and (before is None or hhmm < before)


def accept(node: AskNode, text: str, payload: str | None, today: dt.date) -> Any:
    """The slot value for an answer, or None when it does not validate."""
    text = text.strip()
    match node.validate:
        case "text":
            return text or None
        case "number":
            number = parse_number(text)
            if number is None:
                return None
            if (node.min is not None and number < node.min) or (node.max is not None and number > node.max):
                return None
            return number
        case "email":
            return parse_email(text)
        case "phone":
            return parse_phone(text)
        case "date":
            found = parse_date(text, today)
            return found.isoformat() if found else None
        case "time":
            moment = parse_time(text)
            return moment.strftime("%H:%M") if moment else None
        case "choice":
            return _choice(node, text, payload)
        case "regex":
            return text if re.fullmatch(node.pattern or "", text) else None
    return None


def _choice(node: AskNode, text: str, payload: str | None) -> str | None:
    wanted = (payload or text).casefold()
    for choice in node.choices:
        if choice.casefold() == wanted:
            return choice
    for button in node.buttons:
        if button.title.casefold() == wanted or (button.payload or "").casefold() == wanted:
            return button.payload or button.title
    options = node.choices or [b.payload or b.title for b in node.buttons]
    # "2" picks the second option, which is how people answer on SMS where there are no buttons.
    if wanted.isdigit() and 1 <= int(wanted) <= len(options):
        return options[int(wanted) - 1]
    return None
