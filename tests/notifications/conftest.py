import asyncio
import socket
from email import message_from_bytes, policy

import pytest
from aiosmtpd.controller import Controller


class Inbox:
    """A real SMTP server in the test process that keeps what it receives."""

    def __init__(self):
        self.messages = []
        self.refuse = set()
        self.delay = 0.0  # seconds the server takes per message (a slow mail server)

    def stop(self):
        self.controller.stop()

    def start_again(self):
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refuse:
            return "550 5.1.1 mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.delay:
            await asyncio.sleep(self.delay)
        self.messages.append(message_from_bytes(envelope.content, policy=policy.default))
        return "250 Message accepted"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def smtp(app, monkeypatch):
    """Mail goes to a local SMTP server; delivery runs only when a test asks for it."""
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    monkeypatch.setitem(app.config, "MAIL_SERVER", "127.0.0.1")
    monkeypatch.setitem(app.config, "MAIL_PORT", port)
    monkeypatch.setitem(app.config, "OUTBOX_KICK_ON_COMMIT", False)
    inbox.controller = controller
    inbox.port = port
    yield inbox
    inbox.controller.stop()
