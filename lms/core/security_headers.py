"""Security headers (contract §1.8) from flask-talisman, computed once instead of per response.

Talisman builds the same headers for every response, parsing its policies anew each time (about a
tenth of a small request). `Talisman` here keeps Talisman's policy code and configuration but runs
it once per kind of request (https or not, which decides HSTS) and copies the result onto each
response. It supports what this app uses: no per-view options, no CSP nonces (the docs page has no
inline script), no redirect to https (TLS ends at the proxy).
"""

from __future__ import annotations

import flask
import flask_talisman

from lms.core.http import put_headers


class Talisman(flask_talisman.Talisman):
    def init_app(self, app: flask.Flask, **options) -> None:
        if options.get("force_https", True) or options.get("content_security_policy_nonce_in"):
            raise ValueError("this Talisman precomputes its headers: no force_https, no CSP nonces")
        super().init_app(app, **options)
        # Replace the per-request hooks Talisman registered with the copying one.
        app.before_request_funcs[None].remove(self._force_https)
        app.before_request_funcs[None].remove(self._make_nonce)
        hooks = app.after_request_funcs[None]
        hooks[hooks.index(self._set_response_headers)] = self._copy_headers
        self._computed: dict[bool, list[tuple[str, str]]] = {}

    def _copy_headers(self, response: flask.Response) -> flask.Response:
        secure = flask.request.is_secure or flask.request.headers.get("X-Forwarded-Proto") == "https"
        computed = self._computed.get(secure)
        if computed is None:
            probe = flask.Response()
            before = set(probe.headers.keys())
            super()._set_response_headers(probe)
            computed = self._computed[secure] = [
                (name, value) for name, value in probe.headers.items() if name not in before]
        put_headers(response, computed)
        return response
