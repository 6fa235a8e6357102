"""One error model: every refusal Vigil's core makes is a :class:`VigilError` of one :class:`ErrorKind`.

The core says *what kind* of refusal it is (the thing is missing, the caller may not, the state does
not allow it ...) and a stable machine-readable ``code``; the edges say how a kind is answered. The
HTTP API maps a kind to a status once (``vigil.api.errors``), the consoles show the same status on
their refusal page (``vigil.web.common``), and nothing below them knows about HTTP.

To add a refusal, subclass the area's error (``CaseError``, ``OrderActionError`` ...) or raise it
with ``code=`` and ``kind=``; never map it by hand in a route.
"""

from __future__ import annotations

from enum import StrEnum


class ErrorKind(StrEnum):
    """What kind of refusal an error is; each edge answers a kind one way (the API: one status)."""

    INVALID = "invalid"  # the request cannot be carried out as given: fix it and send it again
    UNAUTHENTICATED = "unauthenticated"  # who sent it is not proven (a signature missing or wrong)
    FORBIDDEN = "forbidden"  # the caller is known but may not do this
    NOT_FOUND = "not_found"  # no such thing, or none the caller may know of
    CONFLICT = "conflict"  # the thing's state does not allow it now (closed, held by another, taken)
    GONE = "gone"  # it existed, and was deleted on purpose (retention)
    TOO_MANY = "too_many"  # too many attempts: wait and try again
    UNAVAILABLE = "unavailable"  # switched off or not configured here
    BROKEN = "broken"  # stored data that does not hold together: an operator must look


class VigilError(Exception):
    """A refusal the caller can act on: a kind, a stable ``code`` for machines and a sentence.

    Subclasses set ``kind`` and ``code`` as class attributes; a raise site may override either
    (``AuthorityError(..., kind=ErrorKind.CONFLICT, code="authority_exists")``). ``message`` is the
    sentence a person reads; :meth:`answer` is what the HTTP API says, the same unless a subclass
    keeps an older wording.
    """

    kind: ErrorKind = ErrorKind.INVALID
    code: str = "invalid"

    def __init__(self, message: str, *, code: str | None = None, kind: ErrorKind | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        if kind is not None:
            self.kind = kind

    def answer(self) -> str:
        """The message the HTTP API answers with."""
        return self.message


class NotFoundError(VigilError, LookupError):
    """Something named that does not exist (or that the caller may not know exists).

    Why ``answer`` adds " not found": the HTTP API has always answered these as
    ``"<message> not found"`` ("no case 'c1' not found"), and clients may show it; the consoles show
    the message alone.
    """

    kind = ErrorKind.NOT_FOUND
    code = "not_found"

    def answer(self) -> str:
        return f"{self.message} not found"
