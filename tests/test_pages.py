"""The diner's pages answer the methods a browser, a crawler or a load balancer's probe uses."""

import pytest

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("path", ["/", "/r/trattoria-test/"])
def test_pages_answer_get_and_head_and_refuse_post(client, restaurant, path):
    assert client.get(path).status_code == 200
    head = client.head(path)
    assert head.status_code == 200 and head.content == b""
    assert client.post(path).status_code == 405


def test_an_inactive_restaurants_page_is_not_found(client, restaurant):
    restaurant.is_active = False
    restaurant.save()

    assert client.get("/r/trattoria-test/").status_code == 404
