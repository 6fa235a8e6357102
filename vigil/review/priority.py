"""The priority of a case: which case a reviewer should open next.

``priority`` is a whole number from 0 to 1000, higher first, and the sum of four parts, each capped:

============  =====  ===========================================================================
part          up to  from
============  =====  ===========================================================================
severity       300   the category (:data:`SEVERITY`); a case without a category adds nothing
reach          150   ``25 * log10(1 + reach)``: +25 for every tenfold audience, full at a million
source         250   authority order 250, trusted flagger 150, user notice 80, anything else 0;
                     an appeal counts as a user notice, whatever brought the original content
deadline       300   ``300 * 2h / (2h + time left)``; a deadline reached or passed adds the full
                     300; no deadline adds nothing
============  =====  ===========================================================================

Why these weights:

- **Harm first, when nothing is due.** Severity is the largest standing part, so without deadline
  pressure a user's report of child sexual abuse material (300 + 80 = 380) outranks an authority's
  order about spam (40 + 250 = 290, plus about 23 for a deadline a day away). Each view of abuse
  material harms the child again; an order about spam is met by handling it within its deadline,
  and the deadline part lifts it past the abuse report once less than about 4 h 40 min remain.
- **Reach grows slowly.** Harm grows with the audience but not in proportion to it: a post seen by a
  million is worse than one seen by ten, not a hundred thousand times worse. Logarithmic and capped,
  reach reorders cases of similar severity and never lifts spam (40 + 150) above terrorism (260).
- **A due order beats any voluntary finding.** Voluntary findings carry no deadline, so they rise no
  higher than 300 + 150 = 450. An authority order due in half an hour or less scores at least
  250 + 240 = 490 whatever its category and reach, so a one-hour terrorist removal order (already
  260 + 250 + 200 = 710 when it arrives) is never left waiting behind the backlog of detections.
  Trusted flaggers' notices (DSA Art. 22) come before users' notices, which come before voluntary
  findings, because someone outside is waiting for each of them.
- **The deadline curve is hyperbolic**, with its midpoint two hours out: a day away adds 23, six
  hours 75, two hours 150, one hour 200, thirty minutes 240, and the full 300 once the deadline has
  passed. Far deadlines barely reorder the queue; the last hours dominate it. An overdue case keeps
  the full 300 without climbing further: among overdue cases, severity, source and reach decide,
  not how long ago the deadline passed.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import datetime
from types import MappingProxyType

from vigil.domain.cases import CaseReason, PriorityFacts
from vigil.domain.decisions import Source
from vigil.domain.taxonomy import Category

MAX_PRIORITY = 1000

# How harmful a category is, for ordering review. Abuse of children first; then violence and threats to
# life (terrorism), then intimate images shared without consent, illegal speech, illegal goods,
# fraud, adult material and spam.
SEVERITY: Mapping[Category, int] = MappingProxyType(
    {
        Category.CSAM: 300,
        Category.GROOMING: 300,
        Category.TERRORISM: 260,
        Category.NCII: 230,
        Category.HATE_SPEECH: 170,
        Category.DRUGS: 140,
        Category.FRAUD: 120,
        Category.ADULT_NUDITY: 80,
        Category.SPAM: 40,
    }
)

REACH_PER_DECADE = 25.0
REACH_MAX = 150.0

SOURCE_WEIGHT: Mapping[str, int] = MappingProxyType(
    {
        Source.AUTHORITY_ORDER.value: 250,
        Source.TRUSTED_FLAGGER.value: 150,
        Source.NOTICE.value: 80,
        Source.VOLUNTARY.value: 0,
    }
)

DEADLINE_MAX = 300.0
DEADLINE_MIDPOINT_SECONDS = 2 * 3600.0  # time left at which the deadline part is half its maximum


def _reach(reach: int) -> float:
    return min(REACH_MAX, REACH_PER_DECADE * math.log10(1 + max(0, reach)))


def _source(facts: PriorityFacts) -> int:
    source = Source.NOTICE.value if facts.reason is CaseReason.APPEAL else facts.source
    return SOURCE_WEIGHT.get(source, 0)


def _deadline(deadline: datetime | None, now: datetime) -> float:
    if deadline is None:
        return 0.0
    if deadline.utcoffset() is None:
        raise ValueError("the case's deadline must be a timezone-aware datetime")
    left = (deadline - now).total_seconds()
    if left <= 0:
        return DEADLINE_MAX
    return DEADLINE_MAX * DEADLINE_MIDPOINT_SECONDS / (DEADLINE_MIDPOINT_SECONDS + left)


def _standing(facts: PriorityFacts) -> float:
    severity = SEVERITY[facts.category] if facts.category is not None else 0
    return severity + _reach(facts.reach) + _source(facts)


def priority(facts: PriorityFacts, now: datetime) -> int:
    """The case's priority at ``now``, 0 to 1000, higher first (see the module docstring).

    ``now`` and the deadline must be timezone-aware; a naive one raises ValueError rather than
    silently shifting the deadline by the server's offset from UTC.
    """
    if now.utcoffset() is None:
        raise ValueError("now must be a timezone-aware datetime")
    return max(0, min(MAX_PRIORITY, round(_standing(facts) + _deadline(facts.deadline, now))))


def standing_priority(facts: PriorityFacts) -> int:
    """The priority of a case without a deadline, which does not move with time: what a queue can
    store and sort by in the database. Equal to :func:`priority` whenever ``facts.deadline`` is None."""
    return max(0, min(MAX_PRIORITY, round(_standing(facts))))
