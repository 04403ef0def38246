"""The worker's job metadata parser: {"restaurant_id": <positive int>, "channel": "web"|"phone"} names a call,
{"doctor": true} is doctor's check, and nothing else is a job."""

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dispatch.job_metadata import (
    DOCTOR_METADATA,
    MAX_ID,
    CallJob,
    DoctorJob,
    InvalidJobMetadata,
    parse_job_metadata,
    phone_call,
    preview,
    web_call,
)


@pytest.mark.parametrize(
    "raw,job",
    [
        ('{"restaurant_id": 3}', CallJob(3, "web")),
        ('{"restaurant_id": 42, "source": "x"}', CallJob(42, "web")),
        (' {"restaurant_id":7} ', CallJob(7, "web")),
        ('{"restaurant_id": 3, "channel": "web"}', CallJob(3, "web")),
        ('{"restaurant_id": 5, "channel": "phone"}', CallJob(5, "phone")),  # what sync_sip's rules send
        ('{"doctor": true}', DoctorJob()),
        (' { "doctor" : true } ', DoctorJob()),
    ],
)
def test_it_reads_what_the_job_is_for(raw, job):
    assert parse_job_metadata(raw) == job


@pytest.mark.parametrize(
    "raw,reason",
    [
        ("", "empty"),
        (None, "empty"),
        ("   ", "empty"),
        ("restaurant 3", "not JSON"),
        ('{"restaurant_id": 3', "not JSON"),
        ("[3]", "not an object"),
        ("3", "not an object"),
        ('"3"', "not an object"),
        ("{}", "no restaurant_id"),
        ('{"restaurantId": 3}', "no restaurant_id"),
        ('{"restaurant_id": "3"}', "not a positive integer"),
        ('{"restaurant_id": 3.0}', "not a positive integer"),
        ('{"restaurant_id": true}', "not a positive integer"),
        ('{"restaurant_id": null}', "not a positive integer"),
        ('{"restaurant_id": 0}', "not a positive integer"),
        ('{"restaurant_id": -2}', "not a positive integer"),
        ('{"restaurant_id": 9223372036854775808}', "too large"),  # 2**63: past any database key
        ('{"restaurant_id": 1' + "0" * 4000 + "}", "too large"),
        ("[" * 100_000 + "]" * 100_000, "longer than 4096 characters"),
        ('{"a": ' + "[" * 2000 + "]" * 2000 + "}", "not JSON"),  # short, but nested past the parser's depth
        ('{"restaurant_id": NaN}', "not a positive integer"),
        ('{"restaurant_id": 1e400}', "not a positive integer"),
        ('{"restaurant_id": 3, "channel": "sms"}', 'channel is not "web" or "phone"'),
        ('{"restaurant_id": 3, "channel": "PHONE"}', 'channel is not "web" or "phone"'),
        ('{"restaurant_id": 3, "channel": null}', 'channel is not "web" or "phone"'),
        ('{"restaurant_id": 3, "channel": ["phone"]}', 'channel is not "web" or "phone"'),
        ('{"restaurant_id": 3, "channel": {"phone": 1}}', 'channel is not "web" or "phone"'),
        ('{"channel": "phone"}', "no restaurant_id"),
        ('{"doctor": false}', "exactly"),
        ('{"doctor": 1}', "exactly"),
        ('{"doctor": "true"}', "exactly"),
        ('{"doctor": true, "restaurant_id": 3}', "exactly"),
    ],
)
def test_it_refuses_metadata_that_names_no_restaurant(raw, reason):
    with pytest.raises(InvalidJobMetadata, match=reason):
        parse_job_metadata(raw)


def test_the_log_preview_is_quoted_and_truncated():
    assert preview('{"restaurant_id": 3}') == "'{\"restaurant_id\": 3}'"
    long = preview("x" * 5000)
    assert len(long) < 130
    assert long.endswith("...'")


def test_the_largest_database_id_is_accepted():
    assert parse_job_metadata(json.dumps({"restaurant_id": MAX_ID})) == CallJob(MAX_ID)


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=20), inner, max_size=5),
    max_leaves=12,
)


def parses_or_refuses(raw: str) -> None:
    """parse_job_metadata gives a job that is really in `raw`, or raises its own error, never another."""
    try:
        job = parse_job_metadata(raw)
    except InvalidJobMetadata as exc:
        assert str(exc)  # one sentence saying why
    else:
        if isinstance(job, DoctorJob):
            assert json.loads(raw) == {"doctor": True} and json.loads(raw)["doctor"] is True
        else:
            assert isinstance(job.restaurant_id, int) and 1 <= job.restaurant_id <= MAX_ID
            assert json.loads(raw)["restaurant_id"] == job.restaurant_id
            assert json.loads(raw).get("channel", "web") == job.channel in ("web", "phone")


# Several thousand strings in all, each test drawing the kind it names.
@settings(max_examples=2000, deadline=None)
@given(raw=st.text())
def test_any_text_at_all(raw):
    parses_or_refuses(raw)


@settings(max_examples=400, deadline=None)
@given(raw=JSON_VALUES.map(json.dumps))
def test_well_formed_json_of_any_shape(raw):
    parses_or_refuses(raw)


@settings(max_examples=400, deadline=None)
@given(
    raw=st.fixed_dictionaries(
        {"restaurant_id": JSON_VALUES | st.integers()},
        optional={"channel": JSON_VALUES | st.sampled_from(["web", "phone"]), "doctor": JSON_VALUES},
    ).map(json.dumps)
)
def test_the_right_key_with_any_value(raw):
    parses_or_refuses(raw)


@settings(max_examples=1000, deadline=None)
@given(
    raw=st.one_of(
        st.integers().map(lambda n: json.dumps({"restaurant_id": n})),  # huge and negative numbers
        st.integers(1, 6000).map(lambda depth: "[" * depth + "]" * depth),
        st.integers(1, 6000).map(lambda depth: '{"restaurant_id": ' + '{"a": ' * depth + "1" + "}" * depth + "}"),
    )
)
def test_huge_numbers_and_deep_nesting(raw):
    parses_or_refuses(raw)


@given(st.integers(min_value=1, max_value=MAX_ID))
def test_what_maitre_builds_the_worker_parses(restaurant_id):
    assert parse_job_metadata(web_call(restaurant_id)) == CallJob(restaurant_id, "web")
    assert parse_job_metadata(phone_call(restaurant_id)) == CallJob(restaurant_id, "phone")


def test_the_shapes_on_the_wire_are_the_documented_ones():
    assert json.loads(web_call(3)) == {"restaurant_id": 3}
    assert json.loads(phone_call(3)) == {"restaurant_id": 3, "channel": "phone"}
    assert parse_job_metadata(DOCTOR_METADATA) == DoctorJob()


@pytest.mark.parametrize("bad", [0, -1, MAX_ID + 1, True, "3", 3.0])
def test_the_builders_refuse_what_is_not_a_restaurant_id(bad):
    for build in (web_call, phone_call):
        with pytest.raises(ValueError, match="a restaurant id is an integer from 1 to"):
            build(bad)
