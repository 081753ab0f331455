"""Failed-login lockout (contract §1.7 as changed by §5.14 and §5.36).

Every check of a password or a code counts, not only the login form: `/auth/login`, `/auth/token`,
the code of `/auth/login/mfa`, the password re-entered at `/auth/mfa/enable/request` and
`/auth/mfa/disable`, and the code of `/auth/mfa/enable/confirm`. Each refuses a locked pair or
e-mail before checking anything.

Failures are counted per (e-mail, client IP) and per e-mail, for any submitted e-mail whether or not
an account has it (so a lock reveals nothing). The pair is locked after `MAX_FAILED_LOGIN_ATTEMPTS`
failures, the e-mail for every IP after four times that, each for `ACCOUNT_LOCKOUT_DURATION_SECONDS`
from the failure that crossed the line. One attacker behind a shared IP thus cannot lock everyone
out. Counters live in Redis, falling back to process memory during an outage (a lost counter is
better than refusing every login).
"""

from __future__ import annotations

import hashlib

from flask import current_app

from lms.core.errors import Unauthorized
from lms.core.state import StateStore, state_store

LOCKED = "Account temporarily locked due to multiple failed login attempts. Please try again later."
EMAIL_LOCK_FACTOR = 4
_PREFIX = "auth:lockout"


def _keys(email: str, ip: str) -> dict[str, str]:
    subject = hashlib.sha256(email.encode("utf-8")).hexdigest()  # no addresses in Redis
    return {
        "pair": f"{_PREFIX}:failures:pair:{subject}:{ip}",
        "pair_lock": f"{_PREFIX}:locked:pair:{subject}:{ip}",
        "email": f"{_PREFIX}:failures:email:{subject}",
        "email_lock": f"{_PREFIX}:locked:email:{subject}",
    }


def _store() -> StateStore:
    return state_store(fail_closed=False)


def ensure_not_locked(email: str, ip: str) -> None:
    """Raise the lockout 401 (with `Retry-After`) before any password is looked at."""
    keys, store = _keys(email, ip), _store()
    for lock in (keys["pair_lock"], keys["email_lock"]):
        if store.get(lock) is not None:
            raise Unauthorized(LOCKED, headers={"Retry-After": str(max(store.ttl(lock), 1))})


def record_failure(email: str, ip: str) -> bool:
    """Count a failure; True when it locked the pair or the e-mail."""
    config = current_app.config
    duration = config["ACCOUNT_LOCKOUT_DURATION_SECONDS"]
    threshold = config["MAX_FAILED_LOGIN_ATTEMPTS"]
    keys, store = _keys(email, ip), _store()
    locked = False
    if store.incr(keys["pair"], duration) >= threshold:
        store.set(keys["pair_lock"], "1", duration)
        store.delete(keys["pair"])
        locked = True
    if store.incr(keys["email"], duration) >= threshold * EMAIL_LOCK_FACTOR:
        store.set(keys["email_lock"], "1", duration)
        store.delete(keys["email"])
        locked = True
    return locked


def record_success(email: str, ip: str) -> None:
    keys = _keys(email, ip)
    _store().delete(keys["pair"], keys["email"])
