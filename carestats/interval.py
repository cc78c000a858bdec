"""Interval arithmetic for rounded figures, the way regulators check them (EBA rules, XBRL Calculations 1.1).

A rate reported to d decimals stands for every exact value that rounds half-up to it: 97.78 means
[97.775, 97.785). A figure is consistent when that interval overlaps the interval computed from its
inputs. Counts are exact points, so with exact counts this is “四舍五入 of the exact ratio equals the
reported value”; no false alarm on a correctly rounded value and no wrong value let through.
"""

from __future__ import annotations

import decimal
from dataclasses import dataclass
from decimal import Decimal

from carestats.expr import CONTEXT


def decimals_of(value: Decimal) -> int:
    """How many decimals a Decimal is written with (98.1 → 1, 98 → 0, 1E+2 → 0)."""
    exponent = value.as_tuple().exponent
    return -exponent if isinstance(exponent, int) and exponent < 0 else 0


@dataclass(frozen=True)
class Interval:
    lo: Decimal
    hi: Decimal
    lo_closed: bool = True
    hi_closed: bool = True

    @classmethod
    def point(cls, value: Decimal) -> Interval:
        return cls(value, value)

    @classmethod
    def rounded(cls, reported: Decimal, places: int) -> Interval:
        """The exact values that round half-up to ``reported`` at ``places`` decimals (or at the decimals it
        is written with, when there are more: 97.851 then stands for [97.8505, 97.8515))."""
        places = max(places, decimals_of(reported))
        with decimal.localcontext(CONTEXT):
            half = Decimal(5).scaleb(-(places + 1))
            return cls(reported - half, reported + half, True, False)

    @property
    def is_point(self) -> bool:
        return self.lo == self.hi and self.lo_closed and self.hi_closed

    def scale(self, factor: Decimal) -> Interval:
        """Multiply by a positive constant (×100 for a percentage)."""
        if factor <= 0:
            raise ValueError("scale factor must be positive")
        with decimal.localcontext(CONTEXT):
            return Interval(self.lo * factor, self.hi * factor, self.lo_closed, self.hi_closed)

    def __truediv__(self, other: Interval) -> Interval:
        """Quotient of two non-negative intervals, the divisor strictly positive."""
        if other.lo <= 0 or self.lo < 0:
            raise ValueError("interval division needs a non-negative dividend and a positive divisor")
        with decimal.localcontext(CONTEXT):
            return Interval(
                self.lo / other.hi,
                self.hi / other.lo,
                self.lo_closed and other.hi_closed,
                self.hi_closed and other.lo_closed,
            )

    def overlaps(self, other: Interval) -> bool:
        if self.hi < other.lo or other.hi < self.lo:
            return False
        if self.hi == other.lo and not (self.hi_closed and other.lo_closed):
            return False
        if other.hi == self.lo and not (other.hi_closed and self.lo_closed):
            return False
        return True

    def __str__(self) -> str:
        left = "[" if self.lo_closed else "("
        right = "]" if self.hi_closed else ")"
        return f"{left}{self.lo}, {self.hi}{right}"
