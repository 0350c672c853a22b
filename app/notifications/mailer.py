"""Sending e-mail: real SMTP when configured, else one ``.eml`` file per message in a folder."""

from __future__ import annotations

import contextlib
import logging
import smtplib
import ssl
from collections.abc import Mapping
from email.message import EmailMessage
from pathlib import Path
from types import TracebackType
from typing import Any

logger = logging.getLogger(__name__)


class TemporaryFailure(Exception):
    """Try again later: the server is unreachable or answered 4xx."""


class PermanentFailure(Exception):
    """Do not try again: the server refused the recipient or the message (5xx)."""


class Mailer:
    """One connection for a batch of messages; use as a context manager."""

    def __init__(self, config: Mapping[str, Any]):
        self.server: str | None = config.get("MAIL_SERVER")
        self.port = int(config.get("MAIL_PORT") or 25)
        self.use_tls = bool(config.get("MAIL_USE_TLS"))
        self.use_ssl = bool(config.get("MAIL_USE_SSL"))
        self.username: str | None = config.get("MAIL_USERNAME")
        self.password: str | None = config.get("MAIL_PASSWORD")
        self.outbox_dir = Path(config["MAIL_OUTBOX_DIR"])
        self.timeout = float(config.get("MAIL_TIMEOUT", 30))
        self._smtp: smtplib.SMTP | None = None

    def __enter__(self) -> Mailer:
        return self

    def __exit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        self.close()

    def send(self, message: EmailMessage) -> None:
        """Hand one message over; raises TemporaryFailure or PermanentFailure."""
        if not self.server:
            self._write_file(message)
            return
        try:
            smtp = self._connection(self.server)
            refused = smtp.send_message(message)
        except smtplib.SMTPRecipientsRefused as error:
            self._drop_connection()
            raise _classify(error.recipients) from error
        except smtplib.SMTPResponseException as error:
            self._drop_connection()
            text = f"{error.smtp_code} {error.smtp_error!r}"
            if 500 <= error.smtp_code < 600:
                raise PermanentFailure(text) from error
            raise TemporaryFailure(text) from error
        except (OSError, smtplib.SMTPException) as error:
            self._drop_connection()
            raise TemporaryFailure(str(error) or type(error).__name__) from error
        if refused:
            raise _classify(refused)

    def close(self) -> None:
        if self._smtp is not None:
            with contextlib.suppress(OSError, smtplib.SMTPException):
                self._smtp.quit()
            self._smtp = None

    def _connection(self, server: str) -> smtplib.SMTP:
        if self._smtp is None:
            if self.use_ssl:
                context = ssl.create_default_context()
                smtp: smtplib.SMTP = smtplib.SMTP_SSL(
                    server, self.port, timeout=self.timeout, context=context
                )
            else:
                smtp = smtplib.SMTP(server, self.port, timeout=self.timeout)
                if self.use_tls:
                    smtp.starttls(context=ssl.create_default_context())
            if self.username:
                smtp.login(self.username, self.password or "")
            self._smtp = smtp
        return self._smtp

    def _drop_connection(self) -> None:
        if self._smtp is not None:
            try:
                self._smtp.close()
            finally:
                self._smtp = None

    def _write_file(self, message: EmailMessage) -> None:
        self.outbox_dir.mkdir(parents=True, exist_ok=True)
        name = message["Message-ID"].strip("<>").split("@")[0] + ".eml"
        path = self.outbox_dir / name
        path.write_bytes(bytes(message))
        logger.info("Mail to %s written to %s: %s", message["To"], path, message["Subject"])


def _classify(refused: dict[str, tuple[int, bytes]]) -> Exception:
    codes = [code for code, _ in refused.values()]
    text = "; ".join(f"{rcpt}: {code} {answer!r}" for rcpt, (code, answer) in refused.items())
    if all(500 <= code < 600 for code in codes):
        return PermanentFailure(text)
    return TemporaryFailure(text)
