"""The field types every module's schemas share."""

from datetime import datetime, timezone

import marshmallow as ma
import pytest

from lms.core.schemas import INT32_MAX, Decimal2, Integer, UTCDateTime, positive_int


class Sample(ma.Schema):
    at = UTCDateTime()
    amount = Decimal2()
    count = ma.fields.Integer(validate=positive_int)


def test_timestamps_are_written_in_utc_with_a_z():
    assert Sample().dump({"at": datetime(2026, 11, 27, 1, 18, 22, 344677, tzinfo=timezone.utc)}) == {
        "at": "2026-11-27T01:18:22.344677Z"}


def test_an_offset_timestamp_is_read_as_the_same_instant_in_utc():
    loaded = Sample().load({"at": "2026-11-27T03:00:00+02:00"})["at"]
    assert loaded == datetime(2026, 11, 27, 1, 0, tzinfo=timezone.utc)
    assert loaded.tzinfo == timezone.utc


def test_a_naive_timestamp_is_taken_as_utc():
    assert Sample().load({"at": "2026-11-27T03:00:00"})["at"] == datetime(2026, 11, 27, 3, tzinfo=timezone.utc)


@pytest.mark.parametrize("edge", ["9999-12-31T23:00:00-05:00", "0001-01-01T00:00:00+05:00"])
def test_a_timestamp_outside_the_representable_range_is_a_validation_error(edge):
    with pytest.raises(ma.ValidationError) as raised:
        Sample().load({"at": edge})
    assert raised.value.messages == {"at": ["Not a valid datetime."]}


@pytest.mark.parametrize(("raw", "dumped"), [(70, "70.00"), ("66.666", "66.67"), ("0.005", "0.01")])
def test_decimals_are_strings_with_two_places_rounded_half_up(raw, dumped):
    assert Sample().dump({"amount": Sample().load({"amount": raw})["amount"]}) == {"amount": dumped}


@pytest.mark.parametrize("bad", ["NaN", "Infinity", True, "twelve"])
def test_a_decimal_must_be_a_finite_number(bad):
    with pytest.raises(ma.ValidationError):
        Sample().load({"amount": bad})


def test_integers_are_bounded_to_the_32_bit_columns():
    assert Sample().load({"count": INT32_MAX}) == {"count": INT32_MAX}
    with pytest.raises(ma.ValidationError):
        Sample().load({"count": INT32_MAX + 1})


@pytest.mark.parametrize("value, expected", [(2, 2), (2.0, 2), ("2", 2)])
def test_an_integer_field_reads_whole_numbers_in_the_forms_clients_send(value, expected):
    assert Integer().deserialize(value) == expected


@pytest.mark.parametrize("value", [1.9, "1.9", -0.5])
def test_an_integer_field_refuses_a_fraction_rather_than_truncating_it(value):
    with pytest.raises(ma.ValidationError):
        Integer().deserialize(value)
