"""E-mail delivery over SMTP (stdlib smtplib in a worker thread: no extra dependency)."""

from __future__ import annotations

import asyncio
import smtplib
import ssl
from email.message import EmailMessage
from email.utils import make_msgid

from registry.config import Settings


class EmailError(Exception):
    """The SMTP server refused the message or could not be reached."""


def _send(settings: Settings, message: EmailMessage) -> None:
    assert settings.smtp_host
    try:
        with smtplib.SMTP(
            settings.smtp_host, settings.smtp_port, timeout=settings.webhook_timeout_seconds
        ) as smtp:
            if settings.smtp_starttls:
                smtp.starttls(context=ssl.create_default_context())
            if settings.smtp_user:
                smtp.login(settings.smtp_user, settings.smtp_password or "")
            smtp.send_message(message)
    except (smtplib.SMTPException, OSError) as error:
        raise EmailError(f"{type(error).__name__}: {error}") from error


async def send_email(
    settings: Settings, *, to: str, subject: str, text: str, message_id: str
) -> None:
    message = EmailMessage()
    message["From"] = settings.smtp_from
    message["To"] = to
    message["Subject"] = subject
    # A stable Message-ID per outbox message lets mail systems drop a resent duplicate.
    domain = settings.smtp_from.rpartition("@")[2] or "registry.local"
    message["Message-ID"] = make_msgid(idstring=message_id, domain=domain)
    message.set_content(text)
    await asyncio.to_thread(_send, settings, message)
