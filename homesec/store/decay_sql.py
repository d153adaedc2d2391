"""Exponential decay in SQL, shared by the baseline tables' upserts (the arithmetic's pure
twin is :mod:`homesec.policy.baselines`): the update happens in one statement, so two writers
cannot lose a count between them."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ColumnElement, Integer, case, cast, func, literal


def decayed_plus_one(
    value: ColumnElement[float], last: ColumnElement[dt.date], today: dt.date, decay: float
) -> ColumnElement[float]:
    """``value`` decayed from ``last`` to ``today``, plus today's one. A late event (its day
    before ``last``) adds its own decayed one instead, and ``last`` stays."""
    days = cast(literal(today) - last, Integer)
    return case(
        (days >= 0, value * func.power(decay, days) + 1),
        else_=value + func.power(decay, -days),
    )
