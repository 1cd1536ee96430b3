"""Is a case code really pseudonymous? Reject what looks like a direct identifier.

A case code is typed by a social worker and copied into lists and match views, so it
must never carry a codice fiscale, an e-mail address or a phone number. The checks are
deliberately on the cautious side: a rejected code is cheap to retype, a leaked codice
fiscale is not.
"""

from __future__ import annotations

import re

from stdnum.it import codicefiscale

from registry.errors import InvalidInput

FIELD = "case_code"
_EXAMPLE = "use a pseudonymous code such as ASC-2026-014"

# The 16-character personal codice fiscale, including omocodia (digits replaced by the
# letters LMNPQRSTUV), whether or not its check character is right.
_DIGIT = "[0-9LMNPQRSTUV]"
_CF_SHAPE = re.compile(
    rf"[A-Z]{{6}}{_DIGIT}{{2}}[ABCDEHLMPRST]{_DIGIT}{{2}}[A-Z]{_DIGIT}{{3}}[A-Z]"
)
_EMAIL = re.compile(r"[^\s@]+@[^\s@]+\.[A-Za-z]{2,}|@")
_SEPARATORS = re.compile(r"[\s._/\\-]+")
# Phone numbers: international prefix (+39 / 0039 ...), Italian mobiles (3xx ...) and
# landlines (0 + area code), with or without separators between the digit groups.
_PHONE = (
    re.compile(r"(?:\+|\b00)\s?\d{1,3}(?:[\s./-]?\d){6,}"),
    re.compile(r"(?<!\d)3\d{2}(?:[\s./-]?\d){6,7}(?!\d)"),
    re.compile(r"(?<!\d)0\d{1,3}[\s./-]?\d(?:[\s./-]?\d){4,7}(?!\d)"),
)
_ALLOWED = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/-]*$")


def _looks_like_codice_fiscale(value: str) -> bool:
    compact = _SEPARATORS.sub("", value).upper()
    if _CF_SHAPE.search(compact):
        return True
    # Belt and braces: any 16-character stretch the maintained validator accepts.
    return any(
        codicefiscale.is_valid(compact[i : i + 16]) for i in range(0, max(0, len(compact) - 15))
    )


def check_case_code(value: str) -> str:
    """Return the code, trimmed, or raise InvalidInput naming `case_code`."""
    code = value.strip()
    if _EMAIL.search(code):
        raise InvalidInput(f"the case code looks like an e-mail address: {_EXAMPLE}", field=FIELD)
    if _looks_like_codice_fiscale(code):
        raise InvalidInput(f"the case code looks like a codice fiscale: {_EXAMPLE}", field=FIELD)
    if any(pattern.search(code) for pattern in _PHONE):
        raise InvalidInput(f"the case code looks like a phone number: {_EXAMPLE}", field=FIELD)
    if not _ALLOWED.match(code):
        raise InvalidInput(
            f"the case code may contain only letters, digits and . _ / - (no spaces): {_EXAMPLE}",
            field=FIELD,
        )
    if not any(ch.isdigit() for ch in code):
        # A code made only of letters is too often a name or a surname.
        raise InvalidInput(
            f"the case code must contain at least one digit: {_EXAMPLE}", field=FIELD
        )
    return code
