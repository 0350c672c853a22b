"""Long lists a page at a time: the rows of one page and how many there are, in one statement.

A date with hundreds of participants or a unit with hundreds of departments makes a page
nobody reads at once (and hundreds of kilobytes to send); the lists show a page of them, with
numbered links (``templates/_pagination.html``) and, where people are listed, a search.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from flask import Flask, abort, request, url_for
from sqlalchemy import Select, func

from app.core.input import db_int
from app.core.types import DbSession

T = TypeVar("T")

#: Page numbers linked on either side of the current one (the first and last always are).
NEIGHBOURS = 2


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    #: 1 for the first page.
    number: int
    per_page: int
    #: All items of the list, on every page.
    total: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    @property
    def has_prev(self) -> bool:
        return self.number > 1

    @property
    def has_next(self) -> bool:
        return self.number < self.pages

    @property
    def first(self) -> int:
        """The position of the page's first item in the whole list (1-based; 0 when empty)."""
        return (self.number - 1) * self.per_page + 1 if self.items else 0

    @property
    def last(self) -> int:
        return self.first + len(self.items) - 1 if self.items else 0

    def numbers(self) -> list[int | None]:
        """The page numbers to link: the first, the last and a few around this one; None
        where numbers are left out."""
        shown = sorted(
            {1, self.pages}
            | set(
                range(
                    max(1, self.number - NEIGHBOURS), min(self.pages, self.number + NEIGHBOURS) + 1
                )
            )
        )
        result: list[int | None] = []
        for number in shown:
            if result and number - (result[-1] or 0) > 1:
                result.append(None)
            result.append(number)
        return result


def page_number(name: str = "page") -> int:
    """The page number the request asks for in the query argument ``name``: 1 when none (or
    one the database could not hold, which counts as absent, as every filter's does); 404 below
    1, as for a page beyond the last."""
    number = request.args.get(name, 1, type=db_int)
    if number < 1:
        abort(404)
    return number


def existing(page: Page[T] | None) -> Page[T]:
    """The page, or 404 when it lies beyond the last."""
    if page is None:
        abort(404)
    return page


def page_of(
    db_session: DbSession, query: Select[*tuple[Any, ...]], *, number: int, per_page: int
) -> Page | None:
    """One page of the rows of ``query`` (of one entity or column: its items are that; of
    several: tuples), counted by a window function in the same statement. None for a page
    beyond the last (the first page of an empty list is an empty page)."""
    total = func.count().over().label("total_rows")
    rows = db_session.execute(
        query.add_columns(total).limit(per_page).offset((number - 1) * per_page)
    ).all()
    if not rows:
        return Page([], 1, per_page, 0) if number == 1 else None
    width = len(rows[0]) - 1
    items = [row[0] if width == 1 else tuple(row[:width]) for row in rows]
    return Page(items, number, per_page, int(rows[0][-1]))


def page_of_list(items: Sequence[T], *, number: int, per_page: int) -> Page[T] | None:
    """The same for a list already at hand (e.g. a department's sub-departments)."""
    start = (number - 1) * per_page
    if number > 1 and start >= len(items):
        return None
    return Page(list(items[start : start + per_page]), number, per_page, len(items))


def url_with(**changes: Any) -> str:
    """This page's address with some query arguments changed (None removes one): a page link
    keeps the filters, and the other list's page, as they are."""
    args: dict[str, Any] = request.args.to_dict(flat=False)
    for name, value in changes.items():
        if value is None:
            args.pop(name, None)
        else:
            args[name] = [str(value)]
    return url_for(request.endpoint or "", **(request.view_args or {}), **args)


def register_paging(app: Flask) -> None:
    app.jinja_env.globals["url_with"] = url_with
