"""The declarative base every table shares, with one naming convention for all constraints.

Named constraints make migrations reversible and diffs stable: Alembic can only drop or alter
a constraint it can name, and PostgreSQL's generated names differ between versions.
"""

from __future__ import annotations

from enum import StrEnum

from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


# The largest value of an INTEGER column (the contract's ids are INTEGER).
MAX_INTEGER = 2_147_483_647


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def one_of(column: str, choices: type[StrEnum]) -> str:
    """SQL text of a CHECK that ``column`` holds one of the enum's values (NULL passes)."""
    values = ", ".join(f"'{choice.value}'" for choice in choices)
    return f"{column} IN ({values})"
