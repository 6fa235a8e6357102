"""``invite_links``: a detector that flags posts pushing people into private groups by invite link.

It is a detector like the built-in ones (``vigil/detect/base.py``): a ``name`` and a pure
``detect(content)``. Its signal is a classifier finding in the ``spam`` category with a label that
a policy can single out (``s.label == 'group_invite'``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from vigil.config import Settings
from vigil.domain.content import Content
from vigil.domain.signals import Evidence, Signal, SignalKind
from vigil.domain.taxonomy import Category

_INVITE = re.compile(r"\b(?:t\.me/\+|chat\.whatsapp\.com/|discord\.gg/)[\w-]+", re.IGNORECASE)


class InviteLinkDetector:
    name = "invite_links"

    def detect(self, content: Content) -> Sequence[Signal]:
        found = list(_INVITE.finditer(content.text))
        if not found:
            return []
        first = found[0]
        return [
            Signal(
                detector=self.name,
                kind=SignalKind.CLASSIFIER,
                category=Category.SPAM,
                score=min(0.9, 0.5 + 0.2 * len(found)),  # a link alone is not proof of spam
                label="group_invite",
                evidence=(Evidence(first.start(), first.end(), first.group(), "invite link"),),
            )
        ]


def make_detector(settings: Settings) -> InviteLinkDetector:
    """The entry point: Vigil calls it with its settings at start-up."""
    return InviteLinkDetector()
