"""Phone numbers for people (restaurants.phones): how pages, staff and the agent write and say a number."""

import pytest

from restaurants import phones


@pytest.mark.parametrize(
    ("number", "country", "written", "said"),
    [
        ("+390612345678", "IT", "06 1234 5678", "0 6, 1 2 3 4, 5 6 7 8"),
        ("+442079460123", "GB", "020 7946 0123", "0 2 0, 7 9 4 6, 0 1 2 3"),
        ("+442079460123", "IT", "+44 20 7946 0123", "plus 4 4, 2 0, 7 9 4 6, 0 1 2 3"),
        ("+15105550100", "US", "(510) 555-0100", "5 1 0, 5 5 5, 0 1 0 0"),
        ("+447700900123", "", "+44 7700 900123", "plus 4 4, 7 7 0 0, 9 0 0 1 2 3"),
    ],
)
def test_at_home_nationally_abroad_internationally_said_group_by_group(number, country, written, said):
    assert phones.for_people(number, country) == written
    assert phones.spoken(number, country) == said


@pytest.mark.parametrize("number", ["anonymous", "", None, "+1"])
def test_what_is_not_a_number_comes_back_as_the_network_sent_it(number):
    assert phones.for_people(number, "GB") == (number or "")
    assert phones.spoken(number, "GB") == (number or "")


@pytest.mark.parametrize(
    ("given", "country", "e164"),
    [
        ("06 1234 5678", "IT", "+390612345678"),
        ("+44 20 7946 0123", "IT", "+442079460123"),
        ("(510) 555-0100", "US", "+15105550100"),
        ("0612345678", "", None),  # a national number with no country to read it as
        ("twelve", "GB", None),
        ("1" * 41, "GB", None),
    ],
)
def test_what_a_diner_says_is_kept_in_e164_or_refused(given, country, e164):
    assert phones.to_e164(given, country) == e164
