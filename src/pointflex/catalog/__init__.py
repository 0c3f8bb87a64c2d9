"""The catalogue's data files and their loaders: product types (``products.yaml``) and dated
price lists (``prices/<date>.yaml``, or files an operator imports).

Each file shape is a pydantic model that refuses what the domain could not use and names the
file and the place in it (:mod:`.products`, :mod:`.prices`; shared parts in :mod:`.schema`).
A checked file becomes the domain's frozen dataclasses, which hold every rule: this package
reads files so that :mod:`pointflex.domain` never does.
"""

from pointflex.catalog.prices import (
    default_price_book,
    default_price_lists,
    load_price_list,
    parse_price_list,
)
from pointflex.catalog.products import default_catalog, load_catalog, parse_catalog

__all__ = [
    "default_catalog",
    "default_price_book",
    "default_price_lists",
    "load_catalog",
    "load_price_list",
    "parse_catalog",
    "parse_price_list",
]
