"""Figures as the design states them: a measurement, its baseline from the same run, the ratio and the target.

A ratio is the only number worth comparing across machines: absolute req/s on a 2-core CI box say little,
"80% of a bare INSERT endpoint measured a minute ago on the same box" says a lot.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class Target:
    """A ratio target: ``at_least(0.7)`` (throughput) or ``at_most(3.0)`` (latency as a multiple)."""

    ratio: float
    higher_is_better: bool = True

    def met(self, ratio: float) -> bool:
        if math.isnan(ratio):
            return False
        return ratio >= self.ratio if self.higher_is_better else ratio <= self.ratio

    def text(self) -> str:
        return f"target {'>=' if self.higher_is_better else '<='} {_ratio_text(self.ratio, self.higher_is_better)}"


def at_least(ratio: float) -> Target:
    """Throughput-style target: the measured value must reach ``ratio`` x the baseline (0.7 = 70%)."""
    return Target(ratio, True)


def at_most(ratio: float) -> Target:
    """Latency/time-style target: the measured value may be at most ``ratio`` x the baseline (3.0 = 3x)."""
    return Target(ratio, False)


def _ratio_text(ratio: float, as_percent: bool) -> str:
    if math.isnan(ratio):
        return "n/a"
    return f"{ratio:.0%}" if as_percent else f"{ratio:.2f}x"


def _number(value: float) -> str:
    if math.isnan(value):
        return "n/a"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    return f"{value:.2f}" if abs(value) < 10 else f"{value:.1f}"


@dataclass(frozen=True)
class Figure:
    """One printed figure. ``baseline`` is None for absolute targets (e.g. '>= 20,000 activities/s')."""

    label: str
    value: float
    unit: str
    baseline: float | None = None
    target: Target | None = None
    absolute_target: float | None = None
    note: str = ""

    @property
    def ratio(self) -> float:
        if self.baseline is None or self.baseline == 0:
            return math.nan
        return self.value / self.baseline

    @property
    def met(self) -> bool | None:
        """True/False when a target is given, None when the figure is informational."""
        if self.target is not None and self.baseline is not None:
            return self.target.met(self.ratio)
        if self.absolute_target is not None:
            higher = self.target.higher_is_better if self.target else True
            return self.value >= self.absolute_target if higher else self.value <= self.absolute_target
        return None

    def line(self) -> str:
        text = f"{self.label}: {_number(self.value)} {self.unit}"
        if self.baseline is not None:
            as_percent = self.target.higher_is_better if self.target else True
            text += f" vs baseline {_number(self.baseline)} {self.unit} = {_ratio_text(self.ratio, as_percent)}"
            if self.target:
                text += f" ({self.target.text()})"
        elif self.absolute_target is not None:
            higher = self.target.higher_is_better if self.target else True
            text += f" (target {'>=' if higher else '<='} {_number(self.absolute_target)} {self.unit})"
        if self.met is not None:
            text += " ok" if self.met else " MISSED"
        if self.note:
            text += f"  [{self.note}]"
        return text


def compare(label: str, value: float, baseline: float, unit: str, target: Target | None = None,
            note: str = "") -> Figure:
    """A figure measured against a baseline from the same run; ``print(fig.line())`` or use :func:`emit`."""
    return Figure(label, value, unit, baseline=baseline, target=target, note=note)


def absolute(label: str, value: float, unit: str, target: float | None = None, higher_is_better: bool = True,
             note: str = "") -> Figure:
    """A figure with an absolute target (batch activities/s, planning seconds) and no baseline."""
    return Figure(label, value, unit, target=Target(1.0, higher_is_better), absolute_target=target, note=note)


def emit(figure: Figure) -> Figure:
    """Print the figure's line at once (benches run for minutes; show progress) and hand it back."""
    print(figure.line(), flush=True)
    return figure


def summary(figures: list[Figure]) -> str:
    """The closing table ``python -m bench`` prints: every figure again, and how many targets were met."""
    lines = ["", "== bench summary =="]
    lines += [f"  {f.line()}" for f in figures]
    judged = [f for f in figures if f.met is not None]
    lines.append(f"  {sum(1 for f in judged if f.met)}/{len(judged)} targets met")
    return "\n".join(lines)
