"""Self-supervised learning: the structures it trains on (and, in sibling modules, its tasks)."""

from ..library.structures import (
    crystal,
    library,
    prototype_names,
    prototype_space_group,
    random_crystal,
    random_unit_cell,
    space_group_number,
    unit_cell,
)

__all__ = [
    "crystal",
    "library",
    "prototype_names",
    "prototype_space_group",
    "random_crystal",
    "random_unit_cell",
    "space_group_number",
    "unit_cell",
]
