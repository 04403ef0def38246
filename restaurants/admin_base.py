"""What every restaurant admin shares: staff see only their own restaurants, and a stale page saves safely.

`RestaurantScopedAdmin` is applied to every ModelAdmin and inline of restaurant data (restaurants/admin.py,
dispatch/admin.py); tests/test_tenancy.py walks the admin registry to prove none is missed.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Callable

from django import forms
from django.contrib import admin
from django.contrib.admin.utils import get_fields_from_path
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import get_object_or_404, redirect
from django.utils import timezone
from django.utils.html import format_html
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.text import get_text_list

from .models import Restaurant


class OpenedSelectionInput(forms.MultipleHiddenInput):
    """The hidden inputs that carry a selection (many-to-many) as the page opened it, plus one empty input.

    A browser posts nothing for an empty selection, and Django then takes "no opened value" to mean "not
    sent" (it falls back to the posted selection when it renders the form again): the empty input makes
    "opened empty" something the POST says.
    """

    def format_value(self, value):
        return ["", *super().format_value(value)]

    def value_from_datadict(self, data, files, name):
        return [v for v in super().value_from_datadict(data, files, name) if v != ""]


class StaleSafeModelForm(forms.ModelForm):
    """A ModelForm that, for a saved object, writes only what the staff member changed on the page.

    Each field also renders the value it had when the page was opened (Django's `show_hidden_initial`), so
    `changed_data` means "changed on this page". On POST:
    - a field not changed on the page takes the database's current value, so an edit made meanwhile (an 86
      from the dish list) survives, and model validation judges the row that will really be stored (if
      that fails, a form error also says which fields someone else changed);
    - a field changed on the page that someone else has meanwhile changed to another value is an error on
      that field, naming the current value and asking to reload;
    - `save()` (inline rows) and `update_fields` (for `ModelAdmin.save_model`) write only the changed
      fields, and many-to-many fields only if changed.
    A POST without a field's opened value (not sent by the admin's page) compares that field with the
    current value, as a plain ModelForm does. A new object saves as with a plain ModelForm.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.changed_meanwhile: list[str] = []  # labels of the fields someone else changed and this page did not
        if self.instance._state.adding:
            return
        for name, field in self.fields.items():
            if isinstance(field.hidden_widget(), forms.MultipleHiddenInput):
                field.hidden_widget = OpenedSelectionInput
            field.show_hidden_initial = not self.is_bound or self.add_initial_prefix(name) in self.data

    def clean(self) -> dict:
        cleaned_data = super().clean()
        for name, field in self.fields.items():
            if not field.show_hidden_initial or name not in cleaned_data:
                continue
            current = self._current_value(name)
            opened = field.hidden_widget().value_from_datadict(self.data, self.files, self.add_initial_prefix(name))
            if not field.has_changed(current, opened):
                continue
            if name not in self.changed_data:
                cleaned_data[name] = current
                self.changed_meanwhile.append(field.label)
            elif field.has_changed(current, self[name].data):
                self.add_error(
                    name,
                    f"Someone else changed this to “{_as_text(current)}” since you opened this page. Reload the page "
                    "to see the current values, then make your change again.",
                )
        return cleaned_data

    def full_clean(self) -> None:
        super().full_clean()
        # A rule broken by the row as it will be stored (someone else's values in the fields this page did not
        # change) would otherwise read as a contradiction of the page.
        if self.errors and self.changed_meanwhile:
            fields = get_text_list([f"“{label}”" for label in self.changed_meanwhile], "and")
            self.add_error(
                None,
                f"Since you opened this page someone else changed {fields}. Reload the page to see the current "
                "values, then make your change again.",
            )

    def _current_value(self, name: str):
        # The instance is updated from the form only after clean(), so it still holds the current row. A foreign
        # key is cleaned to an object (not value_from_object's id), a many-to-many to a list.
        model_field = self.instance._meta.get_field(name)
        if model_field.many_to_many:
            return model_field.value_from_object(self.instance)
        return getattr(self.instance, name)

    @property
    def update_fields(self) -> list[str] | None:
        """The model fields a save writes: None (all) for a new object, else those changed on the page."""
        if self.instance._state.adding:
            return None
        return [f.name for f in self.instance._meta.concrete_fields if f.name in self.changed_data]

    def save(self, commit: bool = True):
        if self.instance._state.adding:
            return super().save(commit)
        instance = super().save(commit=False)
        self.save_m2m = self._save_changed_m2m
        if commit:
            instance.save(update_fields=self.update_fields)
            self.save_m2m()
        return instance

    def _save_changed_m2m(self) -> None:
        for model_field in self.instance._meta.many_to_many:
            if model_field.name in self.changed_data:
                model_field.save_form_data(self.instance, self.cleaned_data[model_field.name])


def _as_text(value) -> str:
    """A model value as a message shows it: "10.00", "19:30", "yes", "Gluten, Milk", "empty"."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if value is None or value == "" or value == []:
        return "empty"
    if isinstance(value, list):
        return ", ".join(map(str, value))
    if isinstance(value, dt.time):
        return f"{value:%H:%M}"
    return str(value)


class RestaurantScopedAdmin:
    """ModelAdmin and InlineModelAdmin mixin: a staff member sees and edits only the restaurants whose
    `staff` includes them, and what is under them; a superuser sees everything.

    `restaurant_path` is the lookup from the admin's model to its restaurant: "restaurant" (the default),
    "section__restaurant", or "pk" for Restaurant itself. The list, change, delete and history pages, search
    and bulk actions all go through `get_queryset`, so another restaurant's object answers as a missing id
    does. Foreign-key and many-to-many choices are those the related model's admin shows the user, a list
    filter on a relation offers only values found in the user's rows, and forms save stale-safe
    (`StaleSafeModelForm`).
    """

    restaurant_path = "restaurant"
    form = StaleSafeModelForm

    def get_queryset(self, request):
        restaurants = Restaurant.objects.for_staff(request.user)
        return super().get_queryset(request).filter(**{f"{self.restaurant_path}__in": restaurants})

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        return super().formfield_for_foreignkey(db_field, request, **self._scoped_choices(db_field, request, kwargs))

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        return super().formfield_for_manytomany(db_field, request, **self._scoped_choices(db_field, request, kwargs))

    def _scoped_choices(self, db_field, request, kwargs: dict) -> dict:
        if "queryset" not in kwargs and self.admin_site.is_registered(db_field.related_model):
            related_admin = self.admin_site.get_model_admin(db_field.related_model)
            if isinstance(related_admin, RestaurantScopedAdmin):
                kwargs["queryset"] = related_admin.get_queryset(request)
        return kwargs

    def get_list_filter(self, request):
        # Django's filter for a relation offers every row of the related table, other restaurants' included.
        return [
            (f, admin.RelatedOnlyFieldListFilter)
            if isinstance(f, str) and get_fields_from_path(self.model, f)[-1].is_relation
            else f
            for f in super().get_list_filter(request)
        ]

    def get_changelist_form(self, request, **kwargs):
        return super().get_changelist_form(request, **{"form": self.form, **kwargs})

    def save_model(self, request, obj, form, change) -> None:
        obj.save(update_fields=form.update_fields)


class LocalDayFilter(admin.SimpleListFilter):
    """A list filter by day, yesterday, today or tomorrow, each in the row's restaurant's own time zone ("today" in
    Rome is not today in Tokyo). A subclass says which rows are of a local day: `on_day(day, zone)`, a Q for the
    rows of restaurants in `zone` (orders.admin: the service date; reservations.admin: the start). One query (the
    restaurants' time zones)."""

    title = "day"
    parameter_name = "day"
    OFFSETS = {"yesterday": -1, "today": 0, "tomorrow": 1}

    def on_day(self, day: dt.date, zone: zoneinfo.ZoneInfo) -> Q:
        raise NotImplementedError

    def lookups(self, request, model_admin):
        return [(key, key.replace("-", " ").capitalize()) for key in self.OFFSETS]  # "in-2-days": "In 2 days"

    def queryset(self, request, queryset):
        if self.value() not in self.OFFSETS:
            return queryset
        now, offset = timezone.now(), dt.timedelta(days=self.OFFSETS[self.value()])
        zones = Restaurant.objects.filter(pk__in=queryset.values("restaurant")).values_list("time_zone", flat=True)
        day_in = Q(pk__in=[])
        for zone in set(zones):
            tz = zoneinfo.ZoneInfo(zone)
            day_in |= Q(restaurant__time_zone=zone) & self.on_day(now.astimezone(tz).date() + offset, tz)
        return queryset.filter(day_in)


def one_click_button(*, url: str, field: str, wanted: bool, label: str, aria_label: str) -> str:
    """A list row's one-click button: it submits the list's own form (the rows sit inside it, and forms cannot
    nest) to `url` with `field` = "1" or "0", the state it asks for, so a double click or a stale page cannot
    flip it back."""
    return format_html(
        '<button type="submit" class="button" formaction="{}" formmethod="post" name="{}" value="{}" '
        'aria-label="{}">{}</button>',
        url, field, "1" if wanted else "0", aria_label, label,
    )  # fmt: skip


def one_click_view(
    model_admin: admin.ModelAdmin, request: HttpRequest, pk: int, *, field: str,
    apply: Callable[[HttpRequest, list, bool], str], changelist: str,
) -> HttpResponse:  # fmt: skip
    """What a one-click button posts to: `field` = "1"/"0" sets that state of row `pk` of the admin's own (scoped)
    queryset through `apply(request, [row], wanted)`, which returns the message to show; then back to the list
    the staff member was on (`changelist` if the referrer is another site). 405 for anything but POST, 403
    without the change permission or for another value, 404 for a row that is not theirs."""
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    if not model_admin.has_change_permission(request) or request.POST.get(field) not in ("0", "1"):
        raise PermissionDenied
    row = get_object_or_404(model_admin.get_queryset(request), pk=pk)
    model_admin.message_user(request, apply(request, [row], request.POST[field] == "1"))
    back = request.headers.get("Referer", "")
    if not url_has_allowed_host_and_scheme(back, {request.get_host()}, request.is_secure()):
        back = changelist
    return redirect(back)

