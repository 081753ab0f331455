"""Field types shared by every module's schemas."""

from __future__ import annotations

import ipaddress
import re
import unicodedata
from datetime import datetime, timezone
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from urllib.parse import SplitResult, urlsplit

import marshmallow as ma

TWO_PLACES = Decimal("0.01")


class Integer(ma.fields.Integer):
    """An integer. A number with a fraction (`1.9`) is refused rather than truncated to 1;
    `2.0` and `"2"` still read as 2, as existing clients may send them."""

    def _validated(self, value):
        if isinstance(value, float) and not value.is_integer():
            raise self.make_error("invalid")
        return super()._validated(value)


class Boolean(ma.fields.Boolean):
    """A boolean of a JSON body: `true` or `false` only (marshmallow's also reads 1, "yes", "on"...).
    Query strings and form fields, which carry text, keep marshmallow's reading of "true"/"false"."""

    def _deserialize(self, value, attr, data, **kwargs) -> bool:
        if not isinstance(value, bool):
            raise self.make_error("invalid")
        return value


def to_decimal2(value) -> Decimal:
    return Decimal(str(value)).quantize(TWO_PLACES, rounding=ROUND_HALF_UP)


# Decimals in answers: a string with two decimals. In requests: a JSON number, or a string in plain
# decimal notation (no exponent, no spaces, no `_`), rounded to two decimals.
DECIMAL_ANSWER_PATTERN = r"^-?[0-9]+\.[0-9]{2}$"
DECIMAL_REQUEST_PATTERN = r"^-?[0-9]+(\.[0-9]+)?$"
_DECIMAL_TEXT = re.compile(DECIMAL_REQUEST_PATTERN)


class Decimal2(ma.fields.Field):
    """A decimal answered as a JSON string with two decimals ("66.67"). Reads a JSON number or a
    string in plain decimal notation (`DecimalInput` documents a request's decimal field)."""

    def __init__(self, **kwargs):
        super().__init__(metadata={**self.documentation(), **kwargs.pop("metadata", {})}, **kwargs)

    def documentation(self) -> dict:
        return {"type": "string", "format": "decimal", "pattern": DECIMAL_ANSWER_PATTERN}

    def _serialize(self, value, attr, obj, **kwargs):
        if value is None:
            return None
        return f"{to_decimal2(value):.2f}"

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, bool) or (isinstance(value, str) and not _DECIMAL_TEXT.match(value)):
            raise ma.ValidationError("Not a valid number.")
        try:
            number = Decimal(str(value))
        except (InvalidOperation, ValueError) as exc:
            raise ma.ValidationError("Not a valid number.") from exc
        if not number.is_finite():
            raise ma.ValidationError("Not a valid number.")
        return number


class DecimalInput(Decimal2):
    """A decimal of a request, from `minimum` to `maximum`: documented as what it accepts, a JSON
    number or a decimal string, with the bounds as standard keywords of the number and in words."""

    def __init__(self, *, minimum: int, maximum: int, **kwargs):
        self.minimum, self.maximum = minimum, maximum
        super().__init__(validate=ma.validate.Range(min=minimum, max=maximum), **kwargs)

    def documentation(self) -> dict:
        return {
            "oneOf": [{"type": "number", "minimum": self.minimum, "maximum": self.maximum},
                      {"type": "string", "pattern": DECIMAL_REQUEST_PATTERN}],
            "description": f"{self.minimum} to {self.maximum}: a JSON number, or a string such as "
                           f'"{self.maximum}.00"; rounded to two decimals',
        }


class UTCDateTime(ma.fields.DateTime):
    """ISO-8601 with a UTC offset, written `...Z`; naive input is taken as UTC."""

    def _serialize(self, value, attr, obj, **kwargs):
        if value is None:
            return None
        if value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")

    def _deserialize(self, value, attr, data, **kwargs) -> datetime:
        parsed = super()._deserialize(value, attr, data, **kwargs)
        if parsed.tzinfo is None:
            return parsed.replace(tzinfo=timezone.utc)
        try:
            return parsed.astimezone(timezone.utc)
        except OverflowError as exc:  # e.g. year 9999 at -05:00 is past datetime.max in UTC
            raise ma.ValidationError("Not a valid datetime.") from exc


def one_of(*choices: str) -> ma.validate.OneOf:
    """Enumerated strings: anything else is a 422 naming the allowed values (contract §5.4)."""
    return ma.validate.OneOf(choices)


# On a field of a partial update that takes no null although its model column would: the service
# answers an explicit null with a 400 naming it (contract §1.1), so the document does not offer null.
NULL_REFUSED = {"null_refused": True, "description": "Not null: an explicit null is a 400"}


class MessageSchema(ma.Schema):
    message = ma.fields.String(required=True)


# Integer columns are 32-bit: a larger value is a 422 at the schema, never a database error.
INT32_MAX = 2**31 - 1
positive_int = ma.validate.Range(min=1, max=INT32_MAX)
non_negative_int = ma.validate.Range(min=0, max=INT32_MAX)


# --- http(s) URLs ------------------------------------------------------------------------------
# Links to pages and documents kept elsewhere (submission files, lesson videos): checked here, so that
# a malformed one is a 422 naming its field and never reaches a parser that raises (a 500).

HTTP_SCHEMES = ("http", "https")
MAX_URL_LENGTH = 2048
# Never valid unencoded in a URL. Whitespace and control characters are dropped or kept by different
# parsers (Python silently removes tabs and newlines), and invisible format characters (a right-to-left
# override) make a link read differently from where it leads; browsers read "\" as "/", which can
# disguise the host ("https://good.example\@evil.example"); quotes and angle brackets break out of the
# HTML attributes and JSON texts a link ends up in.
_UNSAFE_URL_CHARACTERS = frozenset('"<>\\`')
_REFUSED_CATEGORIES = frozenset({"Cc", "Cf", "Cs"})  # control, format (invisible) and lone surrogates
_HOST_LABEL = re.compile(r"^[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?$")
_MAX_HOST_LENGTH = 253


def _has_unsafe_character(value: str) -> bool:
    return any(ch in _UNSAFE_URL_CHARACTERS or ch.isspace() or unicodedata.category(ch) in _REFUSED_CATEGORIES
               for ch in value)


def _is_valid_host(host: str) -> bool:
    """A DNS name (internationalised ones included), an IPv4 address, or an IPv6 literal."""
    if ":" in host:  # only an IPv6 literal has one: `hostname` has dropped the brackets and the port
        try:
            ipaddress.IPv6Address(host)
        except ValueError:
            return False
        return True
    try:
        ascii_host = host.removesuffix(".").encode("idna").decode("ascii")
    except UnicodeError:
        return False
    return (0 < len(ascii_host) <= _MAX_HOST_LENGTH
            and all(_HOST_LABEL.match(label) for label in ascii_host.split(".")))


def split_http_url(value: str, max_length: int = MAX_URL_LENGTH) -> SplitResult:
    """The parts of an absolute http(s) URL with a host; a ValidationError saying what is wrong otherwise.

    User names and passwords are refused: a credential in a stored link is a leaked secret shown to
    everyone who reads it, and "https://trusted.example@evil.example" is a classic disguise of a host.
    """
    if len(value) > max_length:
        raise ma.ValidationError(f"URL is longer than {max_length} characters.")
    if _has_unsafe_character(value):
        raise ma.ValidationError("Not a valid URL: spaces, invisible characters and \"<>\\` are not allowed.")
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018  (parsed lazily: raises for a port that is not a number in 0-65535)
    except ValueError as exc:
        raise ma.ValidationError("Not a valid URL.") from exc
    if parts.scheme not in HTTP_SCHEMES:
        raise ma.ValidationError("Not a valid URL: only absolute http and https URLs are accepted.")
    if "@" in parts.netloc:
        raise ma.ValidationError("Not a valid URL: user names and passwords are not allowed in a URL.")
    if not parts.hostname or not _is_valid_host(parts.hostname):
        raise ma.ValidationError("Not a valid URL: it has no valid host name.")
    return parts


class HttpUrl(ma.fields.String):
    """An absolute http(s) URL with a host, kept as sent (see `split_http_url` for what is refused)."""

    def __init__(self, *, max_length: int = MAX_URL_LENGTH, **kwargs):
        metadata = {"format": "uri", "maxLength": max_length, **kwargs.pop("metadata", {})}
        super().__init__(metadata=metadata, **kwargs)
        self.max_length = max_length

    def _deserialize(self, value, attr, data, **kwargs) -> str:
        url = super()._deserialize(value, attr, data, **kwargs)
        split_http_url(url, self.max_length)
        return url
