"""The staff's insights page, /staff/insights/?restaurant=<id>&days=<7|30|90>, and the period's calls as CSV,
/staff/insights/calls.csv with the same parameters.

Staff only (dispatch.staff.views.staff_required): anonymous users get the admin's login page, logged-in users
without staff status 403. One restaurant at a time, one of the user's (Restaurant.objects.for_staff: every one
for a superuser), by default the first by name; the period defaults to 30 days. A malformed restaurant or period
answers 400 with the page saying why; another restaurant's id answers 404, as a missing one does.
"""

from __future__ import annotations

from django import forms
from django.forms.forms import NON_FIELD_ERRORS
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import urlencode
from django.views.decorators.http import require_safe

from dispatch.models import Call
from dispatch.staff.views import staff_required
from restaurants.models import Restaurant

from . import stats
from .export import MAX_EXPORT, csv_lines

DEFAULT_DAYS = 30
REASONS = dict(Call.EndReason.choices)
# What the page reads of each of the user's restaurants (the select lists them all).
RESTAURANT_FIELDS = ("pk", "name", "slug", "time_zone", "currency", "language", "takes_orders", "takes_reservations")


class InsightsForm(forms.Form):
    """What a page asks for among `restaurants` (the user's, a list ordered by name): `restaurant`, the id of one
    of them (empty: the first), and `days`, one of stats.PERIODS (empty: DEFAULT_DAYS). Once valid,
    `cleaned_data` holds `restaurant` (a Restaurant, or None when the user has none) and `days` (an int). Errors
    are sentences for staff; a restaurant that is not one of `restaurants` is the error with code "missing"."""

    restaurant = forms.IntegerField(
        required=False, min_value=1, max_value=2**63 - 1,
        error_messages={k: "That is not a restaurant." for k in ("invalid", "min_value", "max_value")},
    )  # fmt: skip
    days = forms.TypedChoiceField(
        required=False, coerce=int, empty_value=DEFAULT_DAYS, choices=[(str(d), f"{d} days") for d in stats.PERIODS],
        error_messages={"invalid_choice": f"Choose a period of {', '.join(map(str, stats.PERIODS[:-1]))} or "
                                          f"{stats.PERIODS[-1]} days."},
    )  # fmt: skip

    def __init__(self, data, *, restaurants: list[Restaurant]) -> None:
        super().__init__(data)
        self.restaurants = restaurants

    def clean(self) -> dict:
        data = super().clean()
        if self.errors:
            return data
        wanted = data.get("restaurant")
        if wanted is None:
            chosen = self.restaurants[0] if self.restaurants else None
        else:
            chosen = next((r for r in self.restaurants if r.pk == wanted), None)
            if chosen is None:
                raise forms.ValidationError("There is no such restaurant.", code="missing")
        return {**data, "restaurant": chosen}

    @property
    def first_error(self) -> str:
        return next(iter(self.errors.values()))[0]

    @property
    def status(self) -> int:
        """The HTTP status of an invalid form: 404 for another restaurant's id, else 400."""
        return 404 if self.has_error(NON_FIELD_ERRORS, "missing") else 400


def _form(request: HttpRequest) -> InsightsForm:
    """The request's form, bound to the user's restaurants (one query)."""
    mine = list(Restaurant.objects.for_staff(request.user).only(*RESTAURANT_FIELDS).order_by("name", "pk"))
    return InsightsForm(request.GET, restaurants=mine)


@require_safe
@staff_required
def insights_page(request: HttpRequest) -> HttpResponse:
    """The page: charts, each followed by its numbers in a table, for one restaurant and period. Its queries are
    the same whatever the number of calls (stats.insights)."""
    form = _form(request)
    if not form.is_valid():
        return render(request, "staff/insights.html", {"error": form.first_error}, status=form.status)
    restaurant, days = form.cleaned_data["restaurant"], form.cleaned_data["days"]
    context = {"restaurants": form.restaurants, "restaurant": restaurant, "days": days, "periods": stats.PERIODS}
    if restaurant is None:
        return render(request, "staff/insights.html", context)
    numbers = stats.insights(stats.Period.ending(restaurant, days))
    charts = _charts(numbers)
    query = urlencode({"restaurant": restaurant.pk, "days": days})
    context.update(
        numbers=numbers,
        summary=_summary(numbers),
        charts=charts,
        tables={name: _table(chart) for name, chart in charts.items()},
        grid=_grid(numbers),
        hour_labels=[f"{hour:02d}" for hour in range(24)],
        taken_rows=list(zip(charts["taken"]["labels"], numbers.days, strict=True)),
        outcomes=outcome_series(numbers),
        reasons=[(REASONS.get(reason, reason or "Not recorded"), n) for reason, n in numbers.failed_by_reason.items()],
        show_taken=restaurant.takes_orders or restaurant.takes_reservations
        or numbers.total("orders") or numbers.total("bookings"),
        order_value=restaurant.format_price(numbers.total("order_value")),
        retention_note=stats.retention_note(numbers.period),
        csv_url=f"{reverse('staff-insights-csv')}?{query}",
    )  # fmt: skip
    return render(request, "staff/insights.html", context)


def _summary(numbers: stats.Insights) -> dict:
    """The period's totals as the page words them: counts (ints), shares of all calls ("12%", "" with no calls),
    lengths ("2 min 19 s", "" without answered calls)."""
    totals = {name: numbers.total(name) for name in (
        "calls", "web", "phone", "full", "asked", "purged", "failed", "going", "orders", "orders_kept", "bookings",
        "bookings_cancelled", "covers",
    )}  # fmt: skip
    calls = totals["calls"]
    shares = {f"{name}_share": f"{round(100 * totals[name] / calls)}%" if calls else "" for name in totals}
    lengths = {"median": say_length(numbers.median_length), "p90": say_length(numbers.p90_length)}
    return {**totals, **shares, **lengths}


def say_length(seconds: float | None) -> str:
    """A call's length for the page, to the nearest second: "45 s", "2 min 05 s", "15 min 00 s"; "" for None."""
    if seconds is None:
        return ""
    whole = round(seconds)
    return f"{whole} s" if whole < 60 else f"{whole // 60} min {whole % 60:02d} s"


# The outcome series, as Day's attributes and as the page names them; "purged" and "going" only when some are.
OUTCOMES = (("full", "Answered in full"), ("asked", "With an unanswered question"),
            ("purged", "Answered, record purged"), ("failed", "Failed"), ("going", "Going on"))  # fmt: skip


def _charts(numbers: stats.Insights) -> dict:
    """What the page's script draws, passed with json_script: per chart (by its canvas's data-chart) its labels
    (days as "Mon 8 Jun", or length bands) and series [{"label", "data"}], in the order of the table under it."""
    days = numbers.days

    def chart(labels: list[str], *series: tuple[str, str]) -> dict:
        return {"labels": labels, "series": [{"label": label, "data": [getattr(d, name) for d in days]}
                                             for name, label in series]}  # fmt: skip

    day_labels = [f"{d.date:%a} {d.date.day} {d.date:%b}" for d in days]
    return {
        "calls": chart(day_labels, ("web", "Web"), ("phone", "Phone")),
        "outcomes": chart(day_labels, *outcome_series(numbers)),
        "lengths": {
            "labels": [label for label, _ in numbers.length_bands],
            "series": [{"label": "Calls", "data": [n for _, n in numbers.length_bands]}],
        },
        "taken": chart(day_labels, ("orders", "Orders placed"), ("bookings", "Tables booked")),
    }


def _table(chart: dict) -> dict:
    """A chart's numbers for its table: `head` (the series' labels), `rows` [(label, [one number per series])]
    and `totals` (per series)."""
    columns = [series["data"] for series in chart["series"]]
    return {
        "head": [series["label"] for series in chart["series"]],
        "rows": [(label, [column[n] for column in columns]) for n, label in enumerate(chart["labels"])],
        "totals": [sum(column) for column in columns],
    }


def outcome_series(numbers: stats.Insights) -> list[tuple[str, str]]:
    """The outcomes the page shows: OUTCOMES, without "purged" and "going" when none of the period's calls is."""
    return [(name, label) for name, label in OUTCOMES if name not in ("purged", "going") or numbers.total(name)]


def _grid(numbers: stats.Insights) -> list[tuple[str, list[tuple[int, int]]]]:
    """The busy-hours grid as rows (weekday name, [(calls, heat 0 to 5) for each hour]): heat 0 for none, else
    the share of the busiest hour in fifths, rounded up."""
    busiest = numbers.busiest
    return [
        (name, [(n, -(-5 * n // busiest) if n else 0) for n in row])
        for name, row in zip(stats.WEEKDAYS, numbers.hours, strict=True)
    ]


@require_safe
@staff_required
def calls_csv(request: HttpRequest) -> HttpResponse:
    """The period's calls as CSV (insights.export), as a download named calls-<slug>-<first>-to-<last>.csv. The
    same parameters and errors as the page (as plain text); 404 for a user with no restaurant; 400 when the
    period holds more than MAX_EXPORT calls."""
    form = _form(request)
    if not form.is_valid():
        return HttpResponse(form.first_error, status=form.status, content_type="text/plain; charset=utf-8")
    restaurant = form.cleaned_data["restaurant"]
    if restaurant is None:
        return HttpResponse("There is no such restaurant.", status=404, content_type="text/plain; charset=utf-8")
    period = stats.Period.ending(restaurant, form.cleaned_data["days"])
    if period.calls().count() > MAX_EXPORT:
        return HttpResponse(
            f"The period holds more than {MAX_EXPORT:,} calls: export a shorter one.", status=400,
            content_type="text/plain; charset=utf-8",
        )  # fmt: skip
    response = StreamingHttpResponse(csv_lines(period), content_type="text/csv; charset=utf-8")
    name = f"calls-{restaurant.slug}-{period.first.isoformat()}-to-{period.last.isoformat()}.csv"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
