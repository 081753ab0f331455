"""Helpers for the foundation's tests: probe routes for an app variant, a TCP relay to take a server "down",
and a log handler that records.
"""

from __future__ import annotations

import logging
import socket
import threading
from contextlib import contextmanager
from urllib.parse import urlsplit, urlunsplit

import marshmallow as ma
from flask import Flask, request
from flask.views import MethodView
from sqlalchemy import text

from lms.core.api import Blueprint
from lms.core.permissions import current_user, login_required
from lms.core.ratelimit import auth_rate_limit
from lms.core.extensions import api, db
from tests.helpers import free_port

LEAKY_MESSAGE = "probe secret: do-not-leak"


class ProbeItemSchema(ma.Schema):
    name = ma.fields.String(required=True, validate=ma.validate.Length(min=1))
    count = ma.fields.Integer(load_default=1, validate=ma.validate.Range(min=1))


class ProbeQuerySchema(ma.Schema):
    page = ma.fields.Integer(load_default=1, validate=ma.validate.Range(min=1))


def add_probe_routes(app: Flask) -> None:
    """Routes that exercise the global mechanisms; call right after building the app."""
    blp = Blueprint("probe", __name__, url_prefix="/probe")

    @blp.route("/ok")
    def ok():
        return {"ok": True}

    @blp.route("/other")
    def other():
        return {"ok": True}

    @blp.route("/varies")
    def varies():
        return {"ok": True}, 200, {"Vary": "Accept-Encoding"}

    @blp.route("/boom")
    def boom():
        raise RuntimeError(LEAKY_MESSAGE)

    @blp.route("/db")
    def database():
        db.session.execute(text("SELECT 1"))
        return {"database": "ok"}

    @blp.route("/items")
    class Items(MethodView):
        @blp.arguments(ProbeQuerySchema, location="query")
        @blp.arguments(ProbeItemSchema)
        @blp.response(201, ProbeItemSchema)
        def post(self, query, item):
            return item

    @blp.route("/items/<uuid:item_id>")
    def item(item_id):
        return {"id": str(item_id)}

    @blp.route("/db-refuses", methods=["POST"])
    def db_refuses():
        # A value the database will not store (PostgreSQL: out of the integer range; SQLite: too big).
        db.session.execute(text("SELECT CAST(:big AS INTEGER) * 1000000000000000000"), {"big": "9" * 30})
        return {"stored": True}

    @blp.route("/login-like", methods=["POST"])
    @auth_rate_limit
    def login_like():
        return {"ok": True}

    @blp.route("/token-like", methods=["POST"])
    @auth_rate_limit
    def token_like():
        return {"ok": True}

    @blp.route("/upload", methods=["POST"])
    def upload():
        return {"files": sorted(request.files)}

    @blp.route("/client")
    def client_seen():
        return {"address": request.remote_addr, "scheme": request.scheme}

    @blp.route("/me")
    @login_required
    def me():
        return {"id": str(current_user().id)}

    api.register_blueprint(blp, url_prefix=app.config["API_V1_PREFIX"] + "/probe")


class TcpRelay:
    """A loopback TCP relay to a real server, so a test can take the server "down" and back."""

    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.port = free_port()
        self._listener: socket.socket | None = None
        self._connections: list[socket.socket] = []
        self._lock = threading.Lock()

    def start(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(16)
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def stop(self) -> None:
        """Refuse new connections and cut the open ones, as a crashed server would."""
        listener, self._listener = self._listener, None
        if listener is not None:
            try:
                listener.shutdown(socket.SHUT_RDWR)  # wakes the accept() blocked in the relay thread
            except OSError:
                pass
            listener.close()
        with self._lock:
            connections, self._connections = self._connections, []
        for connection in connections:
            try:
                connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            connection.close()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            upstream.settimeout(None)
            with self._lock:
                self._connections += [client, upstream]
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(source, sink), daemon=True).start()

    @staticmethod
    def _pipe(source: socket.socket, sink: socket.socket) -> None:
        try:
            while chunk := source.recv(65536):
                sink.sendall(chunk)
        except OSError:
            pass
        finally:
            for end in (source, sink):
                try:
                    end.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass


@contextmanager
def tcp_relay(url: str):
    """`with tcp_relay(url) as (relay, relayed_url):` the same server, reached through a relay."""
    parts = urlsplit(url)
    relay = TcpRelay(parts.hostname or "127.0.0.1", parts.port)
    relay.start()
    netloc = parts.netloc.rsplit("@", 1)
    host_port = f"127.0.0.1:{relay.port}"
    relayed = urlunsplit(parts._replace(netloc=f"{netloc[0]}@{host_port}" if len(netloc) == 2 else host_port))
    try:
        yield relay, relayed
    finally:
        relay.stop()


class RecordingHandler(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def messages(self, logger_name: str | None = None) -> list[str]:
        return [r.getMessage() for r in self.records if logger_name is None or r.name == logger_name]
