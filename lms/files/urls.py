"""The URLs of stored files: the one download URL a file has, and recognising it in a link.

Shared by the files service, the schemas that show `file_url`, and assignments (which store a
student's own uploads in submissions under their download path). No service here, no request: a
caller that knows the request's host passes it (`request_host`), so that a link to this API on
that host is recognised too.
"""

from __future__ import annotations

import posixpath
import re
import uuid
from urllib.parse import SplitResult, unquote, urlsplit

from flask import current_app
from werkzeug.sansio.utils import host_is_trusted

# A file id as the download route (Werkzeug's uuid converter) matches it.
_CANONICAL_UUID = re.compile(r"[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}")


def download_path(file_id: uuid.UUID | str) -> str:
    """A stored file's one URL on both backends: the API checks access, then streams (local) or
    redirects (S3)."""
    return f"{current_app.config['API_V1_PREFIX'].rstrip('/')}/files/download/{file_id}"


def file_id_of_download_path(path: str) -> uuid.UUID | None:
    """The file id in a path that `download_path` made (any case of the id), or None for any other path.

    Exactly what the download route matches: no trailing slash, and none of the other spellings
    `uuid.UUID` would read ("urn:uuid:...", braces, no hyphens).
    """
    prefix = download_path("")
    if not path.startswith(prefix) or not _CANONICAL_UUID.fullmatch(path[len(prefix):]):
        return None
    return uuid.UUID(path[len(prefix):])


def _own_hosts(request_host: str | None) -> set[str]:
    """The host names this API answers on: its public base URL's and the request's."""
    hosts = {urlsplit(current_app.config["PUBLIC_API_BASE_URL"]).hostname}
    if request_host:
        hosts.add(urlsplit(f"//{request_host}").hostname)
    return {host for host in hosts if host}


def _is_own_host(host: str | None, request_host: str | None) -> bool:
    if not host:
        return False
    trusted = current_app.config.get("TRUSTED_HOSTS")
    return host in _own_hosts(request_host) or (bool(trusted) and host_is_trusted(host, trusted))


def _split(url: str) -> SplitResult | None:
    try:
        return urlsplit(url)
    except ValueError:  # e.g. "http://[": not a URL of ours, whatever it is
        return None


def _api_paths(url: str, request_host: str | None) -> list[str]:
    """The paths `url` may name on this API: its path, and that path below the public base URL's
    (the API may be mounted under one); none when `url` is on another host.

    Relative URLs are this API's. Any scheme and port of an own host count, so that no spelling of
    one of our download URLs passes for an outside link.
    """
    parts = _split(url)
    if parts is None or ((parts.scheme or parts.netloc) and not _is_own_host(parts.hostname, request_host)):
        return []
    base_path = urlsplit(current_app.config["PUBLIC_API_BASE_URL"]).path.rstrip("/")
    paths = [parts.path]
    if parts.netloc and base_path and parts.path.startswith(base_path + "/"):
        paths.append(parts.path[len(base_path):])
    return paths


def _as_served(path: str) -> str:
    """The path a server resolves: percent-escapes decoded, repeated slashes merged, dot segments gone."""
    resolved = posixpath.normpath(re.sub(r"/+", "/", unquote(path)))
    return "" if resolved == "." else resolved


def points_at_downloads(url: str, request_host: str | None) -> bool:
    """Whether `url` (relative, or absolute on this API's host) leads to the file download route,
    however it is spelled."""
    route = download_path("").rstrip("/")
    served = [_as_served(path) for path in _api_paths(url, request_host)]
    return any(path == route or path.startswith(route + "/") for path in served)


def file_id_of_download_url(url: str, request_host: str | None) -> uuid.UUID | None:
    """The file of a plain download URL of this API (relative or on its own host, no query or
    fragment); None for anything else."""
    if "?" in url or "#" in url:
        return None
    for path in _api_paths(url, request_host):
        if (file_id := file_id_of_download_path(path)) is not None:
            return file_id
    return None
