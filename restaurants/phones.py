"""Phone numbers for people: the one place an E.164 number ("+390612345678") becomes what a page shows or the
agent says, with the phonenumbers library (django-phonenumber-field stores numbers in E.164)."""

from __future__ import annotations

import re

import phonenumbers


def _parse(number) -> phonenumbers.PhoneNumber | None:
    """`number` (a PhoneNumber, an E.164 string, or anything a caller's network sent) parsed; None when it is
    not a possible number ("", "anonymous")."""
    try:
        parsed = phonenumbers.parse(str(number or ""), None)
    except phonenumbers.NumberParseException:
        return None
    return parsed if phonenumbers.is_possible_number(parsed) else None


def for_people(number, country: str = "") -> str:
    """How people write `number`: in the national format when it belongs to `country` (ISO 3166, the
    restaurant's: "06 1234 5678" in Italy, "020 7946 0123" in Britain), else internationally ("+44 20 7946
    0123"). Anything that is not a possible number comes back as it was ("anonymous", "")."""
    parsed = _parse(number)
    if parsed is None:
        return str(number or "")
    national = country and phonenumbers.region_code_for_number(parsed) == country.upper()
    style = phonenumbers.PhoneNumberFormat.NATIONAL if national else phonenumbers.PhoneNumberFormat.INTERNATIONAL
    return phonenumbers.format_number(parsed, style)


def spoken(number, country: str = "") -> str:
    """`number` for a voice to read digit by digit, a pause between the groups people write: "0 6, 1 2 3 4, 5 6
    7 8"; abroad it starts with "plus" and the country code ("plus 4 4, 2 0, 7 9 4 6, 0 1 2 3"). Anything that
    is not a possible number comes back as it was."""
    written = for_people(number, country)
    if _parse(number) is None:
        return written
    said = ", ".join(" ".join(group) for group in re.findall(r"\d+", written))
    return f"plus {said}" if written.startswith("+") else said


def to_e164(text: str, country: str = "") -> str | None:
    """What a diner or a caller's network gave as a phone number, in E.164 ("+390612345678"): national numbers
    are read as `country`'s (ISO 3166); None when it is not a valid number (or longer than 40 characters)."""
    if not isinstance(text, str) or len(text) > 40:
        return None
    try:
        parsed = phonenumbers.parse(text, country.upper() or None)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(parsed):
        return None
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
