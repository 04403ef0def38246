"""The kitchen board in a real browser (templates/staff/orders.html, static/js/staff_orders.js): an order placed on a
call arrives on an open /staff/orders/ page with a chime, and staff accept it and cancel another with a reason.

As in tests/test_staff_browser.py, daphne serves config.asgi from a child process with its own in-memory channel
layer (the embedded setup of `make run`): the order placed here, as the worker places it, reaches the page through
the consumer's database polling. The clock is the real one: the pickup times are the restaurant's next possible
ones (orders.pickup.Pickups), two days ahead.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from orders.pickup import Pickups
from orders.services import order_add_line, order_place, order_read, order_set_pickup, order_start
from restaurants.models import Restaurant
from tests.test_browser import db_with_seeds, expect, page  # noqa: F401, F811  (fixtures)
from tests.test_orders import make_takeout
from tests.test_staff_browser import as_worker, asgi_server, log_in, staff_member  # noqa: F401, F811  (fixtures)

pytestmark = pytest.mark.browser


@pytest.fixture
def takeout(db_with_seeds) -> Restaurant:
    return make_takeout()


@pytest.fixture
def takeout_staff(takeout) -> str:
    return staff_member(takeout)


def place_order(restaurant: Restaurant, name: str, dish: str = "Supplì", **line) -> None:
    """Take and place an order as the agent's tools do, for the restaurant's first possible pickup two days
    from now."""
    now = timezone.now()
    pickup = Pickups(restaurant, now).nearest(now + dt.timedelta(days=2), count=1)[0]
    order = order_start(restaurant=restaurant)
    order_add_line(order=order, dish=dish, **line)
    order_set_pickup(order=order, name=name, phone="+39 333 123 4567", pickup_at=pickup)
    order_place(order=order, version=order_read(order=order).version)


def test_an_order_arrives_live_with_a_chime_and_staff_accept_and_cancel(
    takeout, takeout_staff, asgi_server, page
):
    as_worker(place_order, restaurant=takeout, name="Anna")
    log_in(page, asgi_server, takeout_staff, "/staff/orders/")
    board = page.locator("#orders")
    to_do, done = page.locator("#to-do"), page.locator("#done")
    expect(page.locator("#live-status")).to_have_text("Live")
    expect(to_do.get_by_role("row", name="101")).to_contain_text("Anna")
    expect(page.locator("#done-empty")).to_have_text("No orders done lately.")

    page.get_by_role("button", name="Turn sound on").click()
    expect(page.get_by_role("button", name="Sound on")).to_have_attribute("aria-pressed", "true")
    expect(board).to_have_attribute("data-chimes", "1")  # the sample chime

    as_worker(
        place_order, restaurant=takeout, name="Bruno", dish="Margherita", modifiers=["Large", "Burrata"],
        note="well done",
    )  # fmt: skip
    bruno = to_do.get_by_role("row", name="102")
    expect(bruno).to_contain_text("1 × Margherita (Large, Burrata) “well done”")
    expect(bruno).to_contain_text("€15.00")
    expect(bruno).to_contain_text("Placed")
    expect(board).to_have_attribute("data-chimes", "2")
    expect(page.locator("#order-news")).to_contain_text("New order 102 for")

    bruno.get_by_role("button", name="Accept").click()
    expect(bruno).to_contain_text("Accepted by the kitchen")
    expect(bruno.get_by_role("button", name="Accept")).to_be_hidden()
    expect(bruno.get_by_role("button", name="Collected")).to_be_visible()

    anna = to_do.get_by_role("row", name="101")
    anna.get_by_role("button", name="Cancel").click()
    dialog = page.get_by_role("dialog", name="Cancel order 101")
    expect(dialog).to_be_visible()
    dialog.get_by_label("Why? The diner may be told.").fill("Out of rice for the supplì")
    dialog.get_by_role("button", name="Cancel the order").click()
    expect(done.get_by_role("row", name="101")).to_contain_text("Rejected by the kitchen")
    expect(done.get_by_role("row", name="101")).to_contain_text("Out of rice for the supplì")
    expect(to_do.get_by_role("row")).to_have_count(2)  # the header and Bruno's
    expect(board).to_have_attribute("data-chimes", "2")  # changes do not chime, only new orders

    page.reload()  # what was stored, drawn by the server
    expect(page.locator("#to-do").get_by_role("row", name="102")).to_contain_text("Accepted by the kitchen")
    expect(page.locator("#done").get_by_role("row", name="101")).to_contain_text("Rejected by the kitchen")
