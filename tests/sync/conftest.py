"""Sync fixtures: watermarks without the settling lag, so a change is reported at once."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def no_settling(app, monkeypatch):
    monkeypatch.setitem(app.config, "SYNC_SETTLE_SECONDS", 0)
