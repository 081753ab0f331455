"""Swagger UI at /docs, its assets served by the app itself (works offline, CSP `script-src 'self'`)."""

from __future__ import annotations

from flask import Blueprint, current_app, render_template, send_from_directory
from swagger_ui_bundle import swagger_ui_path

docs = Blueprint("docs", __name__, static_folder=None)


@docs.route("/docs")
def swagger_ui():
    return render_template("swagger_ui.html", title=current_app.config["PROJECT_NAME"],
                           token_url=f"{current_app.config['API_V1_PREFIX']}/auth/token")


@docs.route("/docs/assets/<path:filename>")
def swagger_assets(filename: str):
    return send_from_directory(str(swagger_ui_path), filename, max_age=86400)


@docs.route("/docs/lms-init.js")
def swagger_init():
    return send_from_directory(current_app.root_path + "/static", "swagger-init.js", max_age=0)
