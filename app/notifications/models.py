"""What the notifications area keeps beside the outbox: letters handed out on paper."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.models import OutboxMessage
from app.core.types import UTCDateTime, utcnow
from app.extensions import Model


class HandedOutLetter(Model):
    """A message that could not be mailed (no e-mail address) was printed and handed to the
    person: it leaves the head's list. One row per message, so two clicks record it once."""

    __tablename__ = "handed_out_letters"

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[int] = mapped_column(
        ForeignKey("outbox_messages.id", ondelete="CASCADE"), unique=True
    )
    handed_out_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: Who marked it handed out (a head or HR); kept when the login is deleted, as NULL.
    handed_out_by_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )

    message: Mapped[OutboxMessage] = relationship()
