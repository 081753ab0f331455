"""Fixtures for the foundation's tests: an app variant with probe routes, and log capture."""

from __future__ import annotations

import logging
from contextlib import contextmanager

import pytest
from flask import Flask

from tests.core.helpers import RecordingHandler, add_probe_routes


@pytest.fixture
def make_probe_app(make_app):
    """`make_probe_app(**settings)`: `make_app` plus the probe routes under /api/v1/probe."""

    def build(**overrides) -> Flask:
        application = make_app(**overrides)
        add_probe_routes(application)
        return application

    return build


@pytest.fixture
def capture_lms_log():
    """`with capture_lms_log() as log:` records of the "lms" loggers during the block.

    They do not propagate to the root logger, so `caplog` misses them. Enter the block after building
    any app variant: `create_app` replaces the logger's handlers.
    """

    @contextmanager
    def capturing():
        logger = logging.getLogger("lms")
        handler = RecordingHandler()
        previous_level = logger.level
        logger.addHandler(handler)
        logger.setLevel(logging.DEBUG)
        try:
            yield handler
        finally:
            logger.removeHandler(handler)
            logger.setLevel(previous_level)

    return capturing
