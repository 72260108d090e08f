"""Logarithmic point buckets: 32 per doubling, so a bucket spans ~2% of its points.

bucket(p) = floor(32 * log2(p)) for p >= 1 (p <= 0 has no bucket: it is above nobody). With this width
the fullest bucket of a long-tailed million-person board holds some thousands of rows, which is all a
rank query counts row by row; everything above it is read from LeaderboardBucket.
"""

from __future__ import annotations

import math
from functools import lru_cache

PER_DOUBLING = 32


def bucket(points: int) -> int | None:
    if points <= 0:
        return None
    b = math.floor(PER_DOUBLING * math.log2(points))
    # guard the float at exact powers: keep bucket() monotone and consistent with lower()
    while b > 0 and 2 ** (b / PER_DOUBLING) > points + 1e-9:
        b -= 1
    return b


@lru_cache(maxsize=4096)
def lower(b: int) -> int:
    """The smallest integer point value whose bucket is >= b."""
    lo = max(1, math.floor(2 ** (b / PER_DOUBLING)) - 1)
    while (bucket(lo) or 0) < b:
        lo += 1
    while lo > 1 and (bucket(lo - 1) or 0) >= b:
        lo -= 1
    return lo
