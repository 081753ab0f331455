"""Password hashing on bcrypt, with its 72-byte limit made explicit (contract §5.17)."""

from __future__ import annotations

import bcrypt
from flask import current_app

PASSWORD_MIN_LENGTH = 8
PASSWORD_MAX_BYTES = 72

# A hash of a random value: verifying against it costs the same as a real check, so that an unknown
# e-mail and a wrong password take the same time (no user enumeration by timing).
_DUMMY_HASHES: dict[int, bytes] = {}


def password_too_long(password: str) -> bool:
    return len(password.encode("utf-8")) > PASSWORD_MAX_BYTES


def hash_password(password: str) -> str:
    if password_too_long(password):
        raise ValueError(f"Password must be at most {PASSWORD_MAX_BYTES} bytes in UTF-8")
    rounds = current_app.config["BCRYPT_ROUNDS"]
    return bcrypt.hashpw(password.encode("utf-8"), bcrypt.gensalt(rounds=rounds)).decode("ascii")


def verify_password(password: str, password_hash: str | None) -> bool:
    """Constant-work check; an over-long password or a missing hash is simply `False`."""
    if password_hash is None or password_too_long(password):
        burn_password_check()
        return False
    return bcrypt.checkpw(password.encode("utf-8"), password_hash.encode("ascii"))


def burn_password_check() -> None:
    """Spend one bcrypt verification's worth of work, for paths that have no real hash to check."""
    rounds = current_app.config["BCRYPT_ROUNDS"]
    if rounds not in _DUMMY_HASHES:
        _DUMMY_HASHES[rounds] = bcrypt.hashpw(b"lms-timing-equalizer", bcrypt.gensalt(rounds=rounds))
    bcrypt.checkpw(b"not-the-password", _DUMMY_HASHES[rounds])
