"""Text and e-mail input types shared by every input struct and every free-text parameter.

PostgreSQL refuses NUL in text (asyncpg raised, the request was a 500) and openpyxl refuses C0
control characters in spreadsheet cells (one vertical tab pasted from Word broke every XLSX
export). So text is refused at the door, with a 400 naming the field, on both databases.
"""

from __future__ import annotations

from typing import Annotated

import msgspec
from email_validator import EmailNotValidError, validate_email

# The end of a whole-string pattern: "end of string" in both Python and ECMAScript (the
# OpenAPI pattern dialect). `$` also matches before a trailing newline in Python (msgspec uses
# re.search), which let "013005\n" through as an ISTAT code.
END = r"(?![\s\S])"
ONE_LINE_PATTERN = r"^[^\x00-\x1f]*" + END
# Long text (descriptions, notes) keeps tab, line feed and carriage return.
LONG_TEXT_PATTERN = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f]*" + END

CONTROL_CHARACTER_MESSAGE = (
    "contains a control character (such as NUL or a vertical tab pasted from a word "
    "processor): remove it"
)
LINE_BREAK_MESSAGE = (
    "contains a control character (a line break, a tab, NUL...): it must be one line of text"
)

# One line of text: no control character at all. Add the length with another Meta, e.g.
# `Annotated[Line, msgspec.Meta(min_length=1, max_length=200)]` (msgspec merges them).
Line = Annotated[str, msgspec.Meta(pattern=ONE_LINE_PATTERN)]
# Several lines of text: tabs and line breaks allowed, other control characters refused.
LongText = Annotated[str, msgspec.Meta(pattern=LONG_TEXT_PATTERN)]

# registry.common.IstatCode and registry.api.params.IstatQuery.
ISTAT_CODE_PATTERN = r"^[0-9]{6}" + END
ISTAT_CODE_MESSAGE = (
    "must be the 6-digit ISTAT code of the comune, e.g. 013005; a code of 5 digits has lost "
    "its leading zero (spreadsheets drop it): write it with the zero"
)

_MESSAGES = {
    f"Expected `str` matching regex {ONE_LINE_PATTERN!r}": LINE_BREAK_MESSAGE,
    f"Expected `str` matching regex {LONG_TEXT_PATTERN!r}": CONTROL_CHARACTER_MESSAGE,
    f"Expected `str` matching regex {ISTAT_CODE_PATTERN!r}": ISTAT_CODE_MESSAGE,
}


def readable(message: str) -> str:
    """msgspec's message for a failed pattern quotes the regex; say what is wrong instead."""
    for raw, plain in _MESSAGES.items():
        if raw in message:
            return message.replace(raw, plain)
    return message


def email_address(value: str) -> str:
    """A syntactically valid e-mail address, normalised (domain in lower case); no DNS lookup.

    Raises ValueError, which msgspec reports as a validation error at the field's path."""
    try:
        return validate_email(value, check_deliverability=False).normalized
    except EmailNotValidError as error:
        raise ValueError(f"not a valid e-mail address: {error}") from None
