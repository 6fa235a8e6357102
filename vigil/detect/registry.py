"""The signal types of this process: Vigil's built-in hash types, then the installed plugins'.

It lives apart from ``signal_types.py`` (the interface) and ``hashing/builtin_types.py`` (the
built-in types, written against that interface) so that neither of those imports the other's user.
"""

from __future__ import annotations

from vigil.detect.hashing.builtin_types import BUILTIN_SIGNAL_TYPES
from vigil.detect.signal_types import SignalTypeRegistry

SIGNAL_TYPES = SignalTypeRegistry(BUILTIN_SIGNAL_TYPES)
