"""The one rule for showing a person's load against capacity: never rounded onto capacity itself.

"100 %" says "exactly at capacity"; someone at 100.4 % is overloaded and someone at 99.6 % is
not, so neither may read "100 %". Used by the KPI reasons (`kpi.people`), the written status
(`report.narrative`) and `tpmsync.words` (every renderer); it imports nothing, as `tpmsync status`
loads it.
"""

from __future__ import annotations


def load_text(ratio: float, *, scale: float = 100, digits: int = 0) -> str:
    """A load ratio for people (`scale` 100: a percentage, 1: times), never rounded onto capacity
    itself: an overloaded 1.001 reads "100.1" (not "100", which says "at capacity"), 0.999 reads
    "99.9", exactly 1 reads "100"; closer to 1 than three more digits show, ">100" or "<100"."""
    value = ratio * scale
    text = f"{value:.{digits}f}"
    for more in range(1, 4):
        if ratio == 1 or float(text) != scale:
            break
        text = f"{value:.{digits + more}f}"
    if ratio != 1 and float(text) == scale:
        return f"{'>' if ratio > 1 else '<'}{scale:.{digits}f}"
    return text
