"""Small shared types."""

from __future__ import annotations

import enum
from typing import Final, Literal, TypeAlias


class _Unset(enum.Enum):
    """Marks a keyword argument the caller did not pass (distinct from an explicit None)."""

    UNSET = "UNSET"

    def __repr__(self) -> str:
        return "UNSET"


UNSET: Final = _Unset.UNSET
Unset: TypeAlias = Literal[_Unset.UNSET]
