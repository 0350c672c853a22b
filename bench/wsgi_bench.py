"""The application as gunicorn serves it in benchmarks, plus a trivial page to compare with.

``/bench/ping`` answers "ok" without touching the database or the session: it measures what
gunicorn, the proxy and Flask's request handling cost by themselves, so a benchmark can set a real
route beside it under the same server. Only benchmarks serve this module (``bench.wsgi_bench:app``).
"""

from __future__ import annotations

from app import create_app

app = create_app()


@app.get("/bench/ping")
def bench_ping() -> str:
    return "ok"
