"""Helpers for the auth tests: reading the tokens and codes of the mails they send."""

from __future__ import annotations

import re
from email.message import Message


def mail_body(message: Message) -> str:
    return message.get_payload(decode=True).decode("utf-8").replace("\r\n", "\n")


def mailed_token(message: Message) -> str:
    """The token of a reset or verification mail, read from its `Token:` line."""
    return re.search(r"^Token: (\S+)$", mail_body(message), re.MULTILINE).group(1)


def mailed_code(message: Message) -> str:
    """The MFA code of a code mail: the line that holds nothing but digits."""
    return re.search(r"^(\d{4,12})$", mail_body(message), re.MULTILINE).group(1)
