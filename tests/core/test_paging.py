"""Pages of a long list: numbered links around the current page, and a page with its total
read in one statement on either database."""

from __future__ import annotations

from sqlalchemy import event, select

from app.core.paging import Page, page_of, page_of_list
from app.staff.models import Employee


def test_the_links_show_the_first_the_last_and_the_pages_around_this_one():
    def numbers(number: int, total: int) -> list[int | None]:
        return Page([object()], number, 10, total).numbers()

    assert numbers(1, 5) == [1]
    assert numbers(1, 30) == [1, 2, 3]
    assert numbers(6, 300) == [1, None, 4, 5, 6, 7, 8, None, 30]
    assert numbers(4, 300) == [1, 2, 3, 4, 5, 6, None, 30]  # no gap for a single number
    assert numbers(30, 300) == [1, None, 28, 29, 30]


def test_a_page_and_its_total_come_in_one_statement(db, make):
    office = make.department("BA")
    for n in range(7):
        make.employee(office, last_name=f"Person {n}")
    query = select(Employee).order_by(Employee.last_name)
    seen: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany):
        seen.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        page = page_of(db.session, query, number=2, per_page=3)
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    assert len([s for s in seen if s.startswith("SELECT")]) == 1
    assert [e.last_name for e in page.items] == ["Person 3", "Person 4", "Person 5"]
    assert (page.total, page.pages, page.first, page.last) == (7, 3, 4, 6)
    assert page_of(db.session, query, number=3, per_page=3).items[0].last_name == "Person 6"
    assert page_of(db.session, query, number=4, per_page=3) is None  # beyond the last
    empty = page_of(db.session, query.where(Employee.id < 0), number=1, per_page=3)
    assert (empty.items, empty.total, empty.pages) == ([], 0, 1)


def test_a_list_at_hand_is_paged_alike():
    page = page_of_list(list(range(60)), number=3, per_page=25)
    assert (page.items, page.total, page.has_next, page.has_prev) == (
        list(range(50, 60)),
        60,
        False,
        True,
    )
    assert page_of_list(list(range(60)), number=4, per_page=25) is None
    assert page_of_list([], number=1, per_page=25).total == 0
