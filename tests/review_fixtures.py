"""Media and a policy that the review tests (HTTP and browser) open cases with."""

from __future__ import annotations

SCAM = b"bytes of a known phishing kit screenshot"
ABUSE = b"bytes of known child sexual abuse material"

# abuse material an internal reviewer flagged: a person confirms before anything is restricted
HELD_CSAM = """\
id: csam-held-for-review
when: "signals.exists(s, s.kind == 'hash_match' && s.bank == 'internal-csam')"
category: csam
ground:
  type: illegal_content
  reference: "Directive 2011/93/EU Art. 5"
  explanation: "The media matches material an internal reviewer flagged."
actions: [remove, preserve_evidence]
review: before
"""
