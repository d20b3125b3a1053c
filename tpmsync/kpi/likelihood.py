"""The one rule for showing a likelihood to people: never 0 % or 100 %.

A simulation that finished in 0 of 10,000 trials is not a certainty, so the ends read "<5 %"
and ">95 %" and whole percents lie between.  JSON keeps the number; this is for words only.
The KPI reasons (`kpi.health`) and `tpmsync.words` (every renderer) both use it, so it is a
module of its own that imports nothing: `tpmsync status` loads it.
"""

from __future__ import annotations

LOW, HIGH = 0.05, 0.95


def bounded_percent(share: float, unit: str = " %") -> str:
    """ "<5 %" below 5 %, ">95 %" above 95 %, else the whole percent ("62 %"); `unit` "%" for tables."""
    if share < LOW:
        return f"<5{unit}"
    if share > HIGH:
        return f">95{unit}"
    return f"{share * 100:.0f}{unit}"
