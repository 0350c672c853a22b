"""A real OpenID Connect provider for the tests: tests/oidc/provider.mjs (the npm package
oidc-provider, installed by `make oidc-provider`) run with Debian's node on a free port."""

from __future__ import annotations

import json
import queue
import re
import shutil
import socket
import subprocess
import threading
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urljoin

import requests

HERE = Path(__file__).resolve().parent
CLIENT_ID = "schulungsmanagement"
CLIENT_SECRET = "test-client-secret"
#: Where the app under the Flask test client (host ``localhost``) is sent back to.
APP = "http://localhost"
#: The oldest node the tests were run with (oidc-provider 9.13 warns below 22 but works).
MIN_NODE = 20

#: The people the provider knows, by ``sub``, with the claims it releases.
ACCOUNTS: dict[str, dict] = {
    "erika": {"email": "erika.muster@stadt.example", "employee_number": "4711", "groups": []},
    "hanna": {
        "email": "hanna.yilmaz@stadt.example",
        "employee_number": "4712",
        "groups": ["gg-schulung-hr", "gg-alle"],
    },
    "ohne-nummer": {"email": "Jonas.Weber@stadt.example"},
    "ohne-alles": {"name": "Niemand"},
}


@dataclass
class Provider:
    issuer: str
    process: subprocess.Popen

    def login(self, authorize_url: str, account: str) -> str:
        """Log ``account`` in at the provider as a browser would (the test provider takes the
        account from ``login_hint``); returns the URL it sends the browser back to the app."""
        browser = requests.Session()
        return self.follow(browser, f"{authorize_url}&login_hint={account}")

    def follow(self, browser: requests.Session, url: str) -> str:
        """Follow the provider's redirects until one leads back to the app."""
        for _ in range(10):
            if url.startswith(APP):
                return url
            response = browser.get(url, allow_redirects=False, timeout=10)
            assert response.status_code in (302, 303), (response.status_code, response.text)
            url = urljoin(url, response.headers["Location"])
        raise AssertionError("the provider never sent the browser back")

    def confirm_logout(self, browser: requests.Session, end_session_url: str) -> str:
        """Confirm the provider's logout page; returns where it sends the browser."""
        page = browser.get(end_session_url, timeout=10)
        assert page.status_code == 200, page.text
        xsrf = re.search(r'name="xsrf" value="([^"]+)"', page.text)
        action = re.search(r'id="op.logoutForm" method="post" action="([^"]+)"', page.text)
        assert xsrf and action, page.text
        answer = browser.post(
            urljoin(end_session_url, action.group(1)),
            data={"xsrf": xsrf.group(1), "logout": "yes"},
            allow_redirects=False,
            timeout=10,
        )
        assert answer.status_code in (302, 303), answer.text
        return urljoin(end_session_url, answer.headers["Location"])


def start_provider() -> Provider:
    """Start the provider; fails (never skips) when node or the npm package is missing."""
    node = shutil.which("node")
    if node is None:
        raise RuntimeError("node is not installed: run `make oidc-provider` (Debian's nodejs)")
    version = subprocess.run([node, "--version"], capture_output=True, text=True, check=True)
    if int(version.stdout.strip().lstrip("v").split(".")[0]) < MIN_NODE:
        raise RuntimeError(
            f"oidc-provider 9 needs node {MIN_NODE} or later, found {version.stdout.strip()} "
            "(Debian 12's nodejs is 18: use Debian 13's or NodeSource's)"
        )
    if not (HERE / "node_modules" / "oidc-provider").is_dir():
        raise RuntimeError("oidc-provider is not installed: run `make oidc-provider` (npm ci)")
    port = free_port()
    settings = {
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
        "redirect_uris": [f"{APP}/auth/sso/callback"],
        "post_logout_redirect_uris": [f"{APP}/auth/login"],
        "accounts": ACCOUNTS,
    }
    process = subprocess.Popen(
        [node, str(HERE / "provider.mjs"), str(port), json.dumps(settings)],
        cwd=HERE,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=_pump, args=(process, lines), daemon=True).start()
    output = []
    while True:
        try:
            line = lines.get(timeout=15)
        except queue.Empty:
            process.kill()
            raise RuntimeError("the OpenID provider did not start:\n" + "".join(output)) from None
        output.append(line)
        if line.startswith("READY "):
            return Provider(issuer=line.split()[1], process=process)
        if process.poll() is not None and lines.empty():
            raise RuntimeError("the OpenID provider exited:\n" + "".join(output))


def stop_provider(provider: Provider) -> None:
    provider.process.terminate()
    try:
        provider.process.wait(timeout=5)
    except subprocess.TimeoutExpired:
        provider.process.kill()
        provider.process.wait()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _pump(process: subprocess.Popen, lines: queue.Queue[str]) -> None:
    assert process.stdout is not None
    for line in process.stdout:
        lines.put(line)
    lines.put("")  # end of output
