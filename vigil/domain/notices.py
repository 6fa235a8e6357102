"""Notices: reports of content by users and trusted flaggers (DSA Art. 16 and 22)."""

from __future__ import annotations

from datetime import timedelta
from enum import StrEnum

from vigil.domain.taxonomy import Category

# Offences of Directive 2011/93/EU (sexual abuse and exploitation of children): a notice of them
# may be anonymous (DSA Art. 16(2)(c)), so that fear of being named never stops a report.
ANONYMOUS_CATEGORIES = frozenset({Category.CSAM, Category.GROOMING})

# How long a notice may wait for a decision. Trusted flaggers' notices are decided with priority
# (DSA Art. 22(1)), so their clock is shorter.
USER_NOTICE_PERIOD = timedelta(hours=72)
TRUSTED_FLAGGER_PERIOD = timedelta(hours=24)


class NoticeState(StrEnum):
    # a notice from anyone but the platform about an item the platform has not sent: only the
    # platform supplies content, so the notice waits for the item (it is asked for by webhook)
    AWAITING_CONTENT = "awaiting_content"
    RECEIVED = "received"  # confirmed to the notifier, waiting for a decision
    DECIDED = "decided"  # the notifier has been told the decision and the redress available


class FlaggerState(StrEnum):
    ACTIVE = "active"
    # notices are not processed while suspended (DSA Art. 23(2)); the coordinator is told why
    SUSPENDED = "suspended"


# What a notifier may do about the decision on their notice (DSA Art. 16(5), 17(3)(f)): told with
# every answer, in the API and in the ``notice.decided`` event.
REDRESS: tuple[str, ...] = (
    "an internal complaint against the decision, free of charge, through the platform, for at least"
    " six months after being told of it (DSA Art. 20)",
    "a certified out-of-court dispute settlement body of the notifier's choice (DSA Art. 21)",
    "the courts, under the law of the member state concerned",
)
