"""Erasure: a deleted person's mails (pending or sent; a pending one may carry a link into the account), the
invitation mails sent to their address before they had an account, and their link tokens go with them
(``service.users.user_deleted``)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, or_
from sqlalchemy.orm import Session

from service.db_dialect import rows_affected
from service.mail.models import EmailToken, OutboxMail
from service.users import user_deleted


@user_deleted.connect
def _forget_on_deletion(session: Session, user_id: int, address: str | None = None, **_: Any) -> dict[str, int]:
    mine = or_(OutboxMail.user_id == user_id, OutboxMail.recipient == address) if address else (
        OutboxMail.user_id == user_id)
    return {"email_outbox": rows_affected(session, delete(OutboxMail).where(mine)),
            "email_tokens": rows_affected(session, delete(EmailToken).where(EmailToken.user_id == user_id))}
