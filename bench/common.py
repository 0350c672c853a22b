"""Helpers the benchmark scripts share: a fresh database, logins, a cookie-keeping HTTP client."""

from __future__ import annotations

import http.client
import re
import socket
import statistics
import time
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlencode

TOKEN = re.compile(r'<input[^>]*name="csrf_token"[^>]*value="([^"]+)"')
#: Every benchmark login has this password.
PASSWORD = "bench-password-123"
#: Logging in is never what a benchmark times, but the application's own hash (scrypt, about
#: 0.14 s of CPU per check) would make logging 1,000 people in take minutes on two cores. The
#: login code checks whichever method the stored hash names.
BENCH_PASSWORD_METHOD = "pbkdf2:sha256:1000"


def recreate_database(url: str) -> None:
    """Drop and create the (PostgreSQL) database named in ``url``: benchmarks start empty."""
    import psycopg
    from sqlalchemy.engine import make_url

    from config import normalise_database_url

    parsed = make_url(normalise_database_url(url))
    admin = parsed.set(drivername="postgresql", database="postgres").render_as_string(False)
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{parsed.database}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{parsed.database}"')


def add_logins(db_session, department, count: int, *, with_email: bool = False) -> None:
    """``count`` employees of ``department``, each with the login ``bench<n>@stadt.example``
    (password ``PASSWORD``, role employee); ``with_email`` gives the employees that address too,
    so mail about them can be sent. The caller commits."""
    from werkzeug.security import generate_password_hash

    from app.auth.models import User, UserRole
    from app.core.roles import Role
    from app.staff.models import Employee

    password_hash = generate_password_hash(PASSWORD, method=BENCH_PASSWORD_METHOD)
    for n in range(count):
        email = f"bench{n}@stadt.example"
        employee = Employee(
            personnel_number=f"B{n:06d}",
            first_name="Bench",
            last_name=f"Person {n}",
            email=email if with_email else None,
            department=department,
        )
        user = User(email=email, password_hash=password_hash, employee=employee)
        user.role_rows.append(UserRole(role=Role.EMPLOYEE.value))
        db_session.add_all([employee, user])


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def free_ports(count: int, span: range) -> list[int]:
    """``count`` ports of ``span`` that nothing listens on right now."""
    found = []
    for port in span:
        with socket.socket() as probe:
            # As servers bind: a port whose old connections linger in TIME_WAIT is free.
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
        found.append(port)
        if len(found) == count:
            return found
    raise RuntimeError(f"fewer than {count} free ports in {span.start}-{span.stop - 1}")


def wait_for(port: int, seconds: float = 30, what: str = "gunicorn") -> None:
    """Wait until ``/health`` on ``port`` answers 200."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            connection.request("GET", "/health")
            if connection.getresponse().status == 200:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{what} on port {port} did not answer")


class Client:
    """One browser: keeps its session cookie."""

    def __init__(self, port: int):
        self.port = port
        self.cookie = ""

    def request(self, method: str, path: str, body: dict | None = None) -> tuple[int, str]:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        headers = {"Cookie": self.cookie} if self.cookie else {}
        data = None
        if body is not None:
            data = urlencode(body)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        connection.request(method, path, body=data, headers=headers)
        response = connection.getresponse()
        text = response.read().decode()
        for header, value in response.getheaders():
            if header.lower() == "set-cookie" and value.startswith("session="):
                self.cookie = value.split(";", 1)[0]
        connection.close()
        return response.status, text

    def token(self, path: str) -> str:
        _status, text = self.request("GET", path)
        found = TOKEN.search(text)
        if found is None:
            raise RuntimeError(f"no form on {path}")
        return found.group(1)


def login_all(port: int, users: int, concurrency: int) -> list[Client]:
    """Log the ``users`` logins of ``add_logins`` in, ``concurrency`` at a time."""

    def login(n: int) -> Client:
        client = Client(port)
        token = client.token("/auth/login")
        status, _ = client.request(
            "POST",
            "/auth/login",
            {"email": f"bench{n}@stadt.example", "password": PASSWORD, "csrf_token": token},
        )
        assert status == 302, f"login {n} answered {status}"
        return client

    with ThreadPoolExecutor(concurrency) as pool:
        return list(pool.map(login, range(users)))


def latency_summary(latencies: list[float]) -> dict:
    """Median, 95th percentile and maximum in milliseconds (empty: zeros)."""
    if not latencies:
        return {"p50_ms": 0.0, "p95_ms": 0.0, "max_ms": 0.0}
    ordered = sorted(latencies)
    return {
        "p50_ms": round(statistics.median(ordered) * 1000, 1),
        "p95_ms": round(ordered[max(int(len(ordered) * 0.95) - 1, 0)] * 1000, 1),
        "max_ms": round(ordered[-1] * 1000, 1),
    }
