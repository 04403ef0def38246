"""The insights page in a real browser: the demo restaurants with their made-up calls (`manage.py load_demo` and
`load_demo_calls`), a staff member of The Copper Kettle, and Chromium drawing each chart with Chart.js (served from
node_modules as a static file) under the Content-Security-Policy. The `page` fixture (tests/test_browser.py) fails
the test on any JavaScript error or blocked resource. Screenshot: test-output/screenshots/.
"""

from __future__ import annotations

import pytest
from django.core.management import call_command

from restaurants.models import Restaurant
from tests import test_browser
from tests.test_browser import expect
from tests.test_staff_browser import log_in, staff_member

pytestmark = pytest.mark.browser
# The fixtures of the browser tests: a database live_server can use, the demo restaurants, Chromium's page.
db_with_seeds, demo, page = test_browser.db_with_seeds, test_browser.demo, test_browser.page

CHARTS = ("calls", "outcomes", "lengths", "taken")
# How many of a canvas's pixels Chart.js painted (not transparent): a chart with bars paints thousands.
PAINTED = """canvas => {
  const data = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
  let painted = 0;
  for (let i = 3; i < data.length; i += 4) if (data[i]) painted++;
  return painted;
}"""


@pytest.fixture
def kettle_staff(demo) -> str:
    call_command("load_demo_calls", "--days", "30", "--per-day", "12")
    return staff_member(Restaurant.objects.get(slug="the-copper-kettle"))


def test_the_demos_calls_show_in_charts_with_their_numbers(kettle_staff, live_server, page):
    log_in(page, live_server.url, kettle_staff, "/staff/insights/")

    expect(page.get_by_role("heading", level=1)).to_have_text("Insights The Copper Kettle")
    for name in CHARTS:
        canvas = page.locator(f"#chart-{name}")
        expect(canvas).to_have_attribute("data-drawn", "true")
        assert canvas.evaluate(PAINTED) > 1000, name
    # What Chart.js drew is what the table under the chart says.
    drawn = page.evaluate("Chart.getChart(document.getElementById('chart-calls')).data.datasets.map(d => d.data)")
    rows = page.locator("#calls-title ~ details table tbody tr")
    expect(rows).to_have_count(30)
    page.get_by_text("Calls per day as a table").click()
    last = rows.last.locator("td").all_inner_texts()
    assert [int(n) for n in last] == [drawn[0][-1], drawn[1][-1]]
    assert sum(drawn[0]) + sum(drawn[1]) == int(page.locator(".key-figures dd").first.inner_text())
    expect(page.locator(".heat-grid tbody tr")).to_have_count(7)
    expect(page.locator(".heat-grid td.heat-5").first).to_be_visible()


# pytest-django's live_server speaks WSGI, which reads the export's asynchronous stream whole; the app runs on ASGI.
@pytest.mark.filterwarnings("ignore:StreamingHttpResponse must consume asynchronous iterators")
def test_staff_switch_the_period_and_download_the_calls(kettle_staff, live_server, page):
    log_in(page, live_server.url, kettle_staff, "/staff/insights/")

    page.get_by_label("Period", exact=True).select_option(label="Last 7 days")
    page.get_by_role("button", name="Show").click()

    expect(page.locator("#calls-title ~ details table tbody tr")).to_have_count(7)
    expect(page.locator("#chart-calls")).to_have_attribute("data-drawn", "true")
    with page.expect_download() as download:
        page.get_by_role("link", name="Download these calls (CSV)").click()
    assert download.value.suggested_filename.startswith("calls-the-copper-kettle-")
    lines = open(download.value.path(), encoding="utf-8").read().splitlines()
    assert lines[0].startswith("call_id,started_local,started_utc,local_date,channel")
    assert len(lines) - 1 == int(page.locator(".key-figures dd").first.inner_text())
