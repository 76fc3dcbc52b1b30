"""Row and event ids: UUID version 7 (RFC 9562), time-ordered.

Messages and most tables are keyed by these ids. Random (version 4) ids land anywhere in a
B-tree, so every insert touches a random leaf page; time-ordered ids land at the right edge,
where PostgreSQL caches the last leaf, and a table's hot index pages stay few. PostgreSQL 18's
uuidv7() lays the bits out the same way, so ids made here and there sort together.
"""

from __future__ import annotations

import random
import time

# Ids need to be unique, not secret: the Mersenne Twister seeded from os.urandom gives 74
# random bits per id without a system call (several ids are made per message).
_RANDOM = random.Random()
_VERSION_7 = 0x7 << 76
_VARIANT_RFC = 0b10 << 62
_RAND_B = (1 << 62) - 1


def new_id() -> str:
    """A fresh UUIDv7 as text: 48 bits of Unix milliseconds, then 74 random bits."""
    rand = _RANDOM.getrandbits(74)
    value = (time.time_ns() // 1_000_000) << 80 | _VERSION_7 | (rand >> 62) << 64 | _VARIANT_RFC | (rand & _RAND_B)
    h = f"{value:032x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"
