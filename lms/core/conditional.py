"""Conditional requests, for every object the same way.

- Reads: a 200 JSON answer to GET (or HEAD) carries an `ETag`, a strong validator of its body, and
  the same request with that tag in `If-None-Match` answers 304 (`tag_read`, after the view). Views
  that cache their answers set the same tag themselves (`lms.core.http.json_response`).
- Writes: a PATCH, PUT or DELETE with `If-Match` is compared, before anything is parsed or written,
  with the tag the GET of the same URL would answer the same caller now (`check_if_match`); when it
  differs the answer is 412 and nothing changes. `If-Match: *` only asks that the object exists. A
  path with no GET of its own (a lesson's progress, a question) ignores `If-Match`.
"""

from __future__ import annotations

from flask import Response, current_app, request
from werkzeug.exceptions import HTTPException

from lms.core.api import InvalidPathValue
from lms.core.errors import AppError, error_response
from lms.core.http import etag_of

WRITE_METHODS = frozenset({"PATCH", "PUT", "DELETE"})
CHANGED = "The object has changed since it was read (its ETag no longer matches If-Match)"


def tag_read(response: Response) -> Response:
    """`after_request`: an ETag on each JSON read that has none yet, and its 304."""
    if (request.method not in ("GET", "HEAD") or response.status_code != 200
            or response.mimetype != "application/json" or response.is_streamed or response.get_etag()[0]):
        return response
    etag = etag_of(response.get_data())
    if request.if_none_match.contains(etag):
        not_modified = current_app.response_class(status=304)
        not_modified.set_etag(etag)
        return not_modified
    response.set_etag(etag)
    return response


def current_etag() -> str | None:
    """The ETag the GET of this request's URL answers its caller now; None when there is no such
    read, or it answers no object (the write then answers the 403 or 404 itself)."""
    adapter = current_app.url_map.bind_to_environ(request.environ)
    try:
        endpoint, values = adapter.match(request.path, method="GET")
    except HTTPException:
        return None
    view = current_app.view_functions[endpoint]
    view_class = getattr(view, "view_class", None)
    read = getattr(view_class(), "get") if view_class is not None else view
    try:
        answer = current_app.make_response(read(**values))
    except (AppError, HTTPException):
        return None
    if answer.status_code != 200:
        return None
    return answer.get_etag()[0] or etag_of(answer.get_data())


def check_if_match() -> Response | None:
    """`before_request`, after the access check: 412 for a write whose If-Match is out of date."""
    if request.method not in WRITE_METHODS or "If-Match" not in request.headers:
        return None
    if any(isinstance(value, InvalidPathValue) for value in (request.view_args or {}).values()):
        return None  # a malformed id is answered 422 next
    etag = current_etag()
    if etag is None:
        return None
    if request.if_match.star_tag or request.if_match.contains(etag):
        return None
    response = error_response(412, CHANGED)
    response.set_etag(etag)
    return response
