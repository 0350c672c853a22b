"""The nightly HR sync through the API against the file import of the same staff, on PostgreSQL.

Creates 1,000 departments, then loads the same 50,000 people (bench/imports.py's generator)
twice from empty staff tables, alternating: once as the file import (record upload, check,
confirm, apply: one transaction) and once as ``POST /api/v1/staff/batch`` in batches of 1,000
(each batch checked and written as its own transaction, with an ``Idempotency-Key``), then
both again with nothing changed. The API is called in-process through the WSGI app (JSON
encoding, token, rate limit, schema validation, planning, writing, audit entry), without a
network hop. Exits non-zero when the API takes more than ``--target`` times as long as the
file import (medians of the first loads).

    .venv/bin/python bench/api_upsert.py [--rows 50000] [--batch 1000] [--repeat 3] [--target 1.5]
"""

from __future__ import annotations

import argparse
import contextvars
import json
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import recreate_database  # noqa: E402
from bench.imports import empty_staff, excel_csv, people, product_import, setup  # noqa: E402

FIELDS = (
    "personnel_number",
    "first_name",
    "last_name",
    "email",
    "department",
    "position",
    "entry_date",
    "exit_date",
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=50_000)
    parser.add_argument("--departments", type=int, default=1_000)
    parser.add_argument("--batch", type=int, default=1_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--target", type=float, default=1.5, help="largest API / file ratio")
    parser.add_argument(
        "--database-url",
        default=os.environ.get(
            "BENCH_API_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/schulung_bench_api"
        ),
    )
    args = parser.parse_args()
    os.environ["DATABASE_URL"] = args.database_url
    os.environ.pop("REDIS_URL", None)
    os.environ["API_RATE_LIMIT"] = "100000 per minute"
    from app import create_app

    recreate_database(args.database_url)
    app = create_app()
    with app.app_context():
        setup(args.departments)
        token = _client_token()
        rows = people(args.rows, args.departments)
        content = excel_csv(rows)
        items = [_item(row) for row in rows]
        file_first, api_first, file_again, api_again = [], [], [], []
        for round_ in range(args.repeat):
            empty_staff()
            file_first.append(product_import(content)["total_seconds"])
            file_again.append(product_import(content)["total_seconds"])
            empty_staff()
            api_first.append(api_sync(app, token, items, args.batch, f"r{round_}a"))
            api_again.append(api_sync(app, token, items, args.batch, f"r{round_}b"))
    results = {
        "rows": args.rows,
        "batch": args.batch,
        "file_import_seconds": statistics.median(file_first),
        "api_seconds": statistics.median(api_first),
        "file_import_unchanged_seconds": statistics.median(file_again),
        "api_unchanged_seconds": statistics.median(api_again),
        "all_runs": {
            "file": file_first,
            "api": api_first,
            "file_unchanged": file_again,
            "api_unchanged": api_again,
        },
    }
    results["api_vs_file"] = round(results["api_seconds"] / results["file_import_seconds"], 2)
    results["api_vs_file_unchanged"] = round(
        results["api_unchanged_seconds"] / results["file_import_unchanged_seconds"], 2
    )
    print(json.dumps(results, indent=2))
    if results["api_vs_file"] > args.target:
        print(f"the API takes {results['api_vs_file']} × the file import", file=sys.stderr)
        sys.exit(1)


def api_sync(app, token: str, items: list[dict], batch: int, run: str) -> float:
    """All people in batches, as the nightly job sends them; returns the seconds taken."""
    from app.extensions import db

    db.session.remove()
    client = app.test_client()
    headers = {"Authorization": f"Bearer {token}"}
    began = time.perf_counter()
    for start in range(0, len(items), batch):
        # Each call in a context of its own (its own app context and session), as a server
        # runs it; the script's own context would otherwise be shared.
        response = contextvars.Context().run(
            client.post,
            "/api/v1/staff/batch",
            json={"items": items[start : start + batch]},
            headers={**headers, "Idempotency-Key": f"{run}-{start}"},
        )
        if response.status_code != 200:
            raise SystemExit(f"batch at {start}: {response.status_code} {response.json}")
    return round(time.perf_counter() - began, 2)


def _client_token() -> str:
    from app.api import services
    from app.extensions import db

    _client, token = services.create_client(
        db.session, name="bench", scopes=["staff:write"], created_by="bench"
    )
    db.session.commit()
    return token


def _item(row: list[str]) -> dict:
    """A CSV row of bench/imports.py as the API's JSON (ISO dates, null for empty)."""
    item = dict(zip(FIELDS, row, strict=True))
    for name in ("entry_date", "exit_date"):
        value = item[name]
        item[name] = f"{value[6:10]}-{value[3:5]}-{value[0:2]}" if value else None
    return item


if __name__ == "__main__":
    main()
