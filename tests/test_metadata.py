"""The worker's job metadata parser: only {"restaurant_id": <positive int>} names a restaurant."""

import pytest

from agent_worker.metadata import InvalidJobMetadata, parse_job_metadata, preview


@pytest.mark.parametrize(
    "raw,restaurant_id",
    [('{"restaurant_id": 3}', 3), ('{"restaurant_id": 42, "source": "web"}', 42), (' {"restaurant_id":7} ', 7)],
)
def test_it_reads_the_restaurant_id(raw, restaurant_id):
    assert parse_job_metadata(raw) == restaurant_id


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
