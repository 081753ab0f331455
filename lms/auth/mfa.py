"""E-mailed MFA codes (contract §3, §5.15).

A code is `MFA_LOGIN_CODE_LENGTH` random digits. Only an HMAC of it (keyed with `SECRET_KEY` and bound
to its slot) is kept, with its TTL, in the revocation store, which fails closed: while Redis is down
in production, issuing or checking a code answers 503 and changes nothing (§5.26). Each slot (a login
challenge or a user's MFA setup) allows `MFA_MAX_WRONG_CODES` tries; the try after that voids it.
Every try is counted *before* the comparison, so parallel guesses cannot exceed the limit, and a
correct code is claimed with an atomic set-if-absent, so it is redeemed once.

A user has at most one open login challenge (§5.36): a new one voids the earlier ones, so that a
fresh password login does not buy fresh tries. The user's current challenge slot is remembered
under a per-user key; issuing a challenge deletes the previous slot, and a challenge that is not the
current one is void, which also settles two logins racing to open one.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets

from flask import current_app

from lms.core.state import revocation_store

_PREFIX = "auth:mfa"


class CodeRejected(Exception):
    """The slot is missing, used up, superseded or voided (`void=True`), or the code was wrong."""

    def __init__(self, *, void: bool) -> None:
        self.void = void
        super().__init__("void" if void else "wrong code")


def login_challenge_slot(challenge_token: str) -> str:
    return f"{_PREFIX}:challenge:{hashlib.sha256(challenge_token.encode('utf-8')).hexdigest()}"


def _current_challenge_key(user_id: str) -> str:
    return f"{_PREFIX}:current-challenge:{user_id}"


def setup_slot(user_id: str) -> str:
    return f"{_PREFIX}:setup:{user_id}"


def new_challenge_token() -> str:
    """The opaque value a client holds between the password step and the code step (not a JWT)."""
    return secrets.token_urlsafe(32)


def _code_digest(slot: str, code: str) -> str:
    key = current_app.config["SECRET_KEY"].encode("utf-8")
    return hmac.new(key, f"{slot}:{code}".encode("utf-8"), hashlib.sha256).hexdigest()


def issue_code(slot: str, ttl_seconds: int, **data: str) -> str:
    """Store a fresh code (replacing any earlier one in `slot`) with `data`; returns the plain code."""
    length = current_app.config["MFA_LOGIN_CODE_LENGTH"]
    code = f"{secrets.randbelow(10 ** length):0{length}d}"
    store = revocation_store()
    store.delete(f"{slot}:tries", f"{slot}:used")
    store.set(slot, json.dumps({"code": _code_digest(slot, code), **data}), ttl_seconds)
    return code


def _discard(slot: str) -> None:
    revocation_store().delete(slot, f"{slot}:tries", f"{slot}:used")


def open_login_challenge(user_id: str, ttl_seconds: int) -> tuple[str, str]:
    """A new login challenge for the user, voiding their earlier ones; returns (challenge token, code)."""
    store = revocation_store()
    current_key = _current_challenge_key(user_id)
    previous = store.get(current_key)
    if previous is not None:
        _discard(previous)
    challenge_token = new_challenge_token()
    slot = login_challenge_slot(challenge_token)
    code = issue_code(slot, ttl_seconds, user_id=user_id)
    store.set(current_key, slot, ttl_seconds)
    return challenge_token, code


def challenged_user_id(challenge_token: str) -> str:
    """The user whose current login challenge this is, without trying a code; else CodeRejected(void)."""
    store = revocation_store()
    slot = login_challenge_slot(challenge_token)
    raw = store.get(slot)
    if raw is None:
        raise CodeRejected(void=True)
    user_id = json.loads(raw)["user_id"]
    if store.get(_current_challenge_key(user_id)) != slot:  # superseded by a newer login
        raise CodeRejected(void=True)
    return user_id


def redeem_login_challenge(challenge_token: str, code: str) -> None:
    """Check the code of a login challenge and consume it; raises CodeRejected."""
    redeem_code(login_challenge_slot(challenge_token), code)


def redeem_code(slot: str, code: str) -> dict:
    """Check `code` against `slot` and consume the slot; returns the slot's data or raises CodeRejected."""
    store = revocation_store()
    raw = store.get(slot)
    if raw is None:
        raise CodeRejected(void=True)
    ttl = max(store.ttl(slot), 1)
    limit = current_app.config["MFA_MAX_WRONG_CODES"]
    tries = store.incr(f"{slot}:tries", ttl)
    if tries > limit:
        store.delete(slot)
        raise CodeRejected(void=True)
    record = json.loads(raw)
    if not hmac.compare_digest(record.pop("code"), _code_digest(slot, code)):
        if tries == limit:
            store.delete(slot)
        raise CodeRejected(void=False)
    if not store.set_if_absent(f"{slot}:used", "1", ttl):
        raise CodeRejected(void=True)
    store.delete(slot)
    return record
