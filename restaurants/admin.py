"""Admin for restaurant staff: a restaurant with its hours and menu sections on one page; dishes in a list
where availability is one click ("86" a dish). A dish's page holds its modifier groups ("Size", "Extras"); each
group's own page, linked from the row, holds its modifiers (Django cannot nest inlines), and the modifier list
86s them in one click as the dish list does dishes. Every admin here is scoped to the staff member's
restaurants (`RestaurantScopedAdmin`); only superusers create restaurants and pick their staff."""

from collections.abc import Iterable

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.text import capfirst

from . import hours
from .admin_base import RestaurantScopedAdmin, one_click_button, one_click_view
from .models import (
    Allergen,
    DietaryTag,
    HouseFact,
    MenuItem,
    MenuSection,
    Modifier,
    ModifierGroup,
    Restaurant,
    ServicePeriod,
    SpecialDay,
)


class ServicePeriodFormSet(forms.BaseInlineFormSet):
    """Rejects overlapping periods among the rows on the page.

    The rows on the page replace the saved ones, so the model's own check against saved rows would judge
    an edit by the old values: the formset checks the whole new set instead.
    """

    def _construct_form(self, i, **kwargs):
        form = super()._construct_form(i, **kwargs)
        form.instance.overlap_checked_by_formset = True
        return form

    def clean(self) -> None:
        super().clean()
        rows = [
            f.cleaned_data
            for f in self.forms
            if f.cleaned_data and not f.cleaned_data.get("DELETE") and f.cleaned_data.get("opens")
        ]
        # A row missing its weekday or closing time already carries "This field is required".
        periods = [(int(r["weekday"]), r["opens"], r["closes"]) for r in rows if "weekday" in r and r.get("closes")]
        clash = hours.first_overlap(periods)
        if clash:
            a, b = (periods[i] for i in clash)
            day = hours.WEEKDAYS
            raise ValidationError(
                f"Two periods overlap: {day[a[0]]} {a[1]:%H:%M}-{a[2]:%H:%M} and {day[b[0]]} {b[1]:%H:%M}-{b[2]:%H:%M}."
            )


class ServicePeriodInline(RestaurantScopedAdmin, admin.TabularInline):
    model = ServicePeriod
    formset = ServicePeriodFormSet
    fields = ["weekday", "opens", "closes", "label"]
    extra = 0


class SpecialDayInline(RestaurantScopedAdmin, admin.TabularInline):
    model = SpecialDay
    fields = ["date", "is_closed", "opens", "closes", "note"]
    extra = 0


class MenuSectionInline(RestaurantScopedAdmin, admin.TabularInline):
    model = MenuSection
    fields = ["name", "position"]
    extra = 0
    show_change_link = True


# reservations/admin.py registers a subclass in its place, with the restaurant's tables and its book's calendar feed.
@admin.register(Restaurant)
class RestaurantAdmin(RestaurantScopedAdmin, admin.ModelAdmin):
    restaurant_path = "pk"
    list_display = ["name", "cuisine", "city", "time_zone", "language", "is_active", "opening_status", "open_questions"]
    list_filter = ["is_active", "country", "cuisine"]
    list_editable = ["is_active"]
    search_fields = ["name", "slug", "cuisine", "city"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [ServicePeriodInline, SpecialDayInline, MenuSectionInline]
    fieldsets = [
        (None, {"fields": ["name", "slug", "cuisine", "description", "is_active"]}),
        ("Where", {"fields": ["street_address", "postal_code", "city", "country", "phone", "time_zone"]}),
        ("Voice agent", {"fields": [
            "language", "currency", "greeting", "tts_voice", "turn_taking", "agent_instructions", "max_concurrent_calls",
        ]}),
        ("Takeout orders", {"fields": [
            "takes_orders", "pickup_lead_minutes", "orders_per_slot", "last_order_minutes",
        ]}),
        ("Table reservations", {"fields": [
            "takes_reservations", "max_party_size", "booking_horizon_days", "booking_notice_minutes", "slot_minutes",
            "dining_minutes", "dining_minutes_large", "last_seating_minutes",
        ]}),
        ("Webhook for orders and bookings", {
            "fields": ["order_webhook_url", "order_webhook_secret"],
            "description": "One address gets both the takeout order events and the table booking events (made, "
            "changed, cancelled...), each signed with the secret below: e.g. a till (POS) bridge or an SMS service.",
        }),
        ("Questions the agent could not answer", {"fields": ["open_questions"]}),
    ]  # fmt: skip
    filter_horizontal = ["staff"]
    # A web address typed without its scheme is taken as https:// (Django 6's default), which is what is allowed.
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}

    def get_fieldsets(self, request, obj=None):
        if not request.user.is_superuser:
            return self.fieldsets
        return [*self.fieldsets, ("Staff", {"fields": ["staff"]})]

    def get_readonly_fields(self, request, obj=None):
        # Simultaneous calls share the workers every restaurant uses: sized by whoever runs them.
        shown = ["open_questions", "order_webhook_secret"]
        return shown if request.user.is_superuser else [*shown, "max_concurrent_calls"]

    def get_queryset(self, request):
        # The count comes through the reverse relation: restaurants imports nothing of dispatch's.
        unresolved = Q(unanswered_questions__resolved_at=None)
        counted = super().get_queryset(request).annotate(open_count=Count("unanswered_questions", filter=unresolved))
        # with_schedule: the "Now" column costs no query per row.
        return counted.order_by(*Restaurant._meta.ordering).with_schedule()  # GROUP BY drops Meta.ordering

    @admin.display(description="Open questions", ordering="open_count")
    def open_questions(self, obj: Restaurant) -> str:
        """How many of the restaurant's unanswered questions are open, linking to them in the queue."""
        count = getattr(obj, "open_count", None)
        if count is None:  # a restaurant not loaded through get_queryset (the add page)
            return "-"
        url = reverse("admin:dispatch_unansweredquestion_changelist") + f"?restaurant__id__exact={obj.pk}&state=open"
        return format_html('<a href="{}">{} open</a>', url, count)

    def has_add_permission(self, request) -> bool:
        # A restaurant a staff member created would belong to nobody (staff are picked by superusers).
        return request.user.is_superuser

    @admin.display(description="Now")
    def opening_status(self, obj: Restaurant) -> str:
        return obj.status_text()


class MenuItemInline(RestaurantScopedAdmin, admin.TabularInline):
    model = MenuItem
    restaurant_path = "section__restaurant"
    fields = ["name", "price", "is_available", "position"]
    extra = 0
    show_change_link = True


@admin.register(MenuSection)
class MenuSectionAdmin(RestaurantScopedAdmin, admin.ModelAdmin):
    list_display = ["name", "restaurant", "position"]
    list_filter = ["restaurant"]
    list_select_related = ["restaurant"]
    search_fields = ["name", "restaurant__name"]
    inlines = [MenuItemInline]


class AvailabilityAdmin:
    """ModelAdmin mixin for rows that can be "86"ed (an `is_available` field): the list's *Available* column
    with its one-click button, the view the button posts to (URL name `<app>_<model>_availability`), and the
    bulk actions. `noun`/`nouns` name the rows in messages and actions."""

    noun, nouns = "dish", "dishes"
    actions = ["mark_available", "mark_unavailable"]

    def row_name(self, obj) -> str:
        """How the button's label and the messages name a row."""
        return obj.name

    @admin.display(description="Available", ordering="is_available")
    def availability(self, obj) -> str:
        """The row's state and a button that flips it: one click "86"s it or brings it back.

        The button submits the list's own form (the rows sit inside it, and forms cannot nest) to
        `availability_view`, with the state it asks for, so a double click or a stale page cannot flip it back.
        """
        name = self.row_name(obj)
        if obj.is_available:
            state, label, aria = "Yes", "86 it", f"Mark {name} unavailable"
        else:
            state, label, aria = "No (86)", "Back on", f"Mark {name} available again"
        url = reverse(f"admin:{self._availability_url_name}", args=[obj.pk])
        wanted = not obj.is_available
        button = one_click_button(url=url, field="is_available", wanted=wanted, label=label, aria_label=aria)
        return format_html("{} {}", state, button)

    @property
    def _availability_url_name(self) -> str:
        return f"{self.opts.app_label}_{self.opts.model_name}_availability"

    def get_urls(self):
        view = self.admin_site.admin_view(self.availability_view)
        return [path("<int:pk>/availability/", view, name=self._availability_url_name), *super().get_urls()]

    def availability_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        """POST is_available=1|0: sets the row's availability, then back to the list the staff member was on."""
        changed = []

        def apply(request, rows, available: bool) -> str:
            changed.extend(self.set_availability(request, rows, available))
            status = "available again" if available else 'marked unavailable ("86")'
            return f"{self.row_name(rows[0])} is {status}."

        changelist = reverse(f"admin:{self.opts.app_label}_{self.opts.model_name}_changelist")
        response = one_click_view(self, request, pk, field="is_available", apply=apply, changelist=changelist)
        self.availability_changed(request, changed)
        return response

    def set_availability(self, request: HttpRequest, rows: Iterable, available: bool) -> list:
        """Makes the rows available or not; returns those that changed.

        Each row whose availability differs is saved (that field alone) and gets an admin log entry like an
        edit of the field on its change page.
        """
        changed = [row for row in rows if row.is_available != available]
        label = capfirst(self.opts.get_field("is_available").verbose_name)
        for row in changed:
            row.is_available = available
            row.save(update_fields=["is_available"])
            self.log_change(request, row, [{"changed": {"fields": [label]}}])
        return changed

    def availability_changed(self, request: HttpRequest, changed: list) -> None:
        """Called after a button or a bulk action changed these rows' availability (and said so)."""

    def get_action(self, action):
        found = super().get_action(action)
        if found and found[1] in ("mark_available", "mark_unavailable"):
            func, name, description = found
            return func, name, description.replace("{nouns}", self.nouns)
        return found

    @admin.action(description="Mark selected {nouns} available")
    def mark_available(self, request, queryset) -> None:
        changed = self.set_availability(request, queryset, True)
        self.message_user(request, f"{self._count(len(changed))} available again.")
        self.availability_changed(request, changed)

    @admin.action(description='Mark selected {nouns} unavailable ("86")')
    def mark_unavailable(self, request, queryset) -> None:
        changed = self.set_availability(request, queryset, False)
        self.message_user(request, f"{self._count(len(changed))} marked unavailable.")
        self.availability_changed(request, changed)

    def _count(self, n: int) -> str:
        return f"1 {self.noun} is" if n == 1 else f"{n} {self.nouns} are"


class PartOfADish:
    """ModelAdmin and inline mixin for a dish's modifier groups and modifiers: they are part of the dish, so
    whoever may view dishes may view them and whoever may change dishes may add, change and delete them (the
    "Restaurant staff" group's dish permissions), besides any permission of their own."""

    def _may(self, request, action: str) -> bool:
        return request.user.has_perm(f"restaurants.{action}_menuitem")

    def has_view_permission(self, request, *args, **kwargs) -> bool:
        may_see_dishes = self._may(request, "view") or self._may(request, "change")
        return super().has_view_permission(request, *args, **kwargs) or may_see_dishes

    def has_add_permission(self, request, *args, **kwargs) -> bool:
        return super().has_add_permission(request, *args, **kwargs) or self._may(request, "change")

    def has_change_permission(self, request, *args, **kwargs) -> bool:
        return super().has_change_permission(request, *args, **kwargs) or self._may(request, "change")

    def has_delete_permission(self, request, *args, **kwargs) -> bool:
        return super().has_delete_permission(request, *args, **kwargs) or self._may(request, "change")


class WarnsUnorderable:
    """ModelAdmin mixin: after a page saves, a warning for each required modifier group of what it saved
    (`groups_of(obj)`) that diners can no longer fill, so its dish cannot be ordered."""

    def groups_of(self, obj):
        raise NotImplementedError

    def response_add(self, request, obj, post_url_continue=None):
        response = super().response_add(request, obj, post_url_continue)
        warn_if_unorderable(self, request, self.groups_of(obj))
        return response

    def response_change(self, request, obj):
        response = super().response_change(request, obj)
        warn_if_unorderable(self, request, self.groups_of(obj))
        return response


def warn_if_unorderable(model_admin: admin.ModelAdmin, request: HttpRequest, groups) -> None:
    """Warns about each required group among `groups` (a ModifierGroup queryset) that has fewer available
    modifiers than it needs: diners cannot order its dish until one is added or back on. One query."""
    for group in groups.unsatisfiable().select_related("menu_item"):
        dish, n, needed = group.menu_item.name, group.available_count, group.min_choices
        available = "none is available" if n == 0 else f"only {n} {'is' if n == 1 else 'are'} available"
        model_admin.message_user(
            request,
            f"Diners cannot order {dish} now: “{group.name}” needs {needed} {'choice' if needed == 1 else 'choices'} "
            f"and {available}. Add a modifier to the group or put one back on.",
            messages.WARNING,
        )


def modifiers_text(group: ModifierGroup) -> str:
    """The group's modifiers on one line, with their price changes and 86s: "Small -$1.50, Regular, Large +$2.00
    (86)"."""
    if group.pk is None:  # the blank row of an inline
        return "-"
    said = []
    for modifier in group.modifiers.all():
        delta = modifier.price_delta_text()
        said.append(modifier.name + (f" {delta}" if delta else "") + ("" if modifier.is_available else " (86)"))
    return ", ".join(said) or "none yet"


class ModifierGroupInline(PartOfADish, RestaurantScopedAdmin, admin.TabularInline):
    model = ModifierGroup
    restaurant_path = "menu_item__section__restaurant"
    fields = ["name", "min_choices", "max_choices", "position", "modifiers"]
    readonly_fields = ["modifiers"]
    extra = 0
    show_change_link = True  # the group's page holds its modifiers

    def get_queryset(self, request):
        groups = super().get_queryset(request).select_related("menu_item__section__restaurant")
        return groups.prefetch_related("modifiers")

    @admin.display(description="Modifiers (open the group to edit them)")
    def modifiers(self, group: ModifierGroup) -> str:
        return modifiers_text(group)


@admin.register(MenuItem)
class MenuItemAdmin(AvailabilityAdmin, WarnsUnorderable, RestaurantScopedAdmin, admin.ModelAdmin):
    restaurant_path = "section__restaurant"
    list_display = ["name", "section_name", "restaurant_name", "price_text", "availability", "allergens_confirmed"]
    list_filter = ["section__restaurant", "section", "is_available", "dietary_tags", "allergens_confirmed"]
    list_select_related = ["section__restaurant"]
    search_fields = ["name", "description", "section__name", "section__restaurant__name"]
    filter_horizontal = ["dietary_tags", "allergens"]
    fields = [
        "section", "name", "description", "price", "is_available", "position",
        "dietary_tags", "allergens", "allergens_confirmed",
    ]  # fmt: skip
    inlines = [ModifierGroupInline]

    @admin.display(description="Section", ordering="section__name")
    def section_name(self, obj: MenuItem) -> str:
        return obj.section.name

    @admin.display(description="Restaurant", ordering="section__restaurant__name")
    def restaurant_name(self, obj: MenuItem) -> str:
        return obj.section.restaurant.name

    @admin.display(description="Price", ordering="price")
    def price_text(self, obj: MenuItem) -> str:
        return obj.section.restaurant.format_price(obj.price)

    def groups_of(self, obj: MenuItem):
        return ModifierGroup.objects.filter(menu_item=obj)


class ModifierInline(PartOfADish, RestaurantScopedAdmin, admin.TabularInline):
    model = Modifier
    restaurant_path = "group__menu_item__section__restaurant"
    fields = ["name", "price_delta", "is_available", "position"]
    extra = 0


@admin.register(ModifierGroup)
class ModifierGroupAdmin(WarnsUnorderable, PartOfADish, RestaurantScopedAdmin, admin.ModelAdmin):
    """A dish's modifier group with its modifiers: opened from the group's row on the dish's page."""

    restaurant_path = "menu_item__section__restaurant"
    list_display = ["name", "dish_name", "restaurant_name", "rule", "modifiers"]
    list_filter = ["menu_item__section__restaurant"]
    search_fields = ["name", "menu_item__name"]
    fields = ["menu_item", "name", "min_choices", "max_choices", "position"]
    inlines = [ModifierInline]

    def get_queryset(self, request):
        # Also the group choices on a modifier's page, whose labels name the dish.
        groups = super().get_queryset(request).select_related("menu_item__section__restaurant")
        return groups.prefetch_related("modifiers")

    @admin.display(description="Dish", ordering="menu_item__name")
    def dish_name(self, obj: ModifierGroup) -> str:
        return obj.menu_item.name

    @admin.display(description="Restaurant", ordering="menu_item__section__restaurant__name")
    def restaurant_name(self, obj: ModifierGroup) -> str:
        return obj.menu_item.section.restaurant.name

    @admin.display(description="Diners")
    def rule(self, obj: ModifierGroup) -> str:
        return obj.rule_text()

    @admin.display(description="Modifiers")
    def modifiers(self, obj: ModifierGroup) -> str:
        return modifiers_text(obj)

    def groups_of(self, obj: ModifierGroup):
        return ModifierGroup.objects.filter(pk=obj.pk)


@admin.register(Modifier)
class ModifierAdmin(AvailabilityAdmin, WarnsUnorderable, PartOfADish, RestaurantScopedAdmin, admin.ModelAdmin):
    """Every modifier of the staff member's dishes, where one click "86"s one (or, searched by name and selected,
    the same choice on every dish)."""

    noun, nouns = "modifier", "modifiers"
    restaurant_path = "group__menu_item__section__restaurant"
    list_display = ["name", "group_name", "dish_name", "restaurant_name", "price_change", "availability"]
    list_filter = ["group__menu_item__section__restaurant", "is_available"]
    search_fields = ["name", "group__name", "group__menu_item__name"]
    fields = ["group", "name", "price_delta", "is_available", "position"]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("group__menu_item__section__restaurant")

    def row_name(self, obj: Modifier) -> str:
        return f"{obj.group.menu_item.name}: {obj.name}"

    @admin.display(description="Group", ordering="group__name")
    def group_name(self, obj: Modifier) -> str:
        return obj.group.name

    @admin.display(description="Dish", ordering="group__menu_item__name")
    def dish_name(self, obj: Modifier) -> str:
        return obj.group.menu_item.name

    @admin.display(description="Restaurant", ordering="group__menu_item__section__restaurant__name")
    def restaurant_name(self, obj: Modifier) -> str:
        return obj.restaurant.name

    @admin.display(description="Price change", ordering="price_delta")
    def price_change(self, obj: Modifier) -> str:
        return obj.price_delta_text() or "-"

    def availability_changed(self, request: HttpRequest, changed: list[Modifier]) -> None:
        warn_if_unorderable(self, request, ModifierGroup.objects.filter(pk__in={m.group_id for m in changed}))

    def groups_of(self, obj: Modifier):
        return ModifierGroup.objects.filter(pk=obj.group_id)


@admin.register(HouseFact)
class HouseFactAdmin(RestaurantScopedAdmin, admin.ModelAdmin):
    """What the staff want the agent to answer ("Is there parking?"), in their words; the agent uses a fact from
    the diner's next question on. Made here, or from an unanswered question with "Answer it"."""

    list_display = ["question", "restaurant", "short_answer", "is_active", "updated_at", "asked_first"]
    list_filter = ["restaurant", "is_active"]
    list_select_related = ["restaurant", "source"]
    search_fields = ["question", "answer"]
    fields = ["restaurant", "question", "answer", "is_active", "asked_first", "updated_at"]
    readonly_fields = ["asked_first", "updated_at"]
    formfield_overrides = {models.CharField: {"widget": forms.TextInput(attrs={"size": 80})}}

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        if db_field.name == "answer":  # a textarea that still says how long it may be (maxlength)
            kwargs["widget"] = forms.Textarea(attrs={"rows": 4, "cols": 80})
        return super().formfield_for_dbfield(db_field, request, **kwargs)

    @admin.display(description="Answer", ordering="answer")
    def short_answer(self, fact: HouseFact) -> str:
        return fact.answer if len(fact.answer) <= 80 else fact.answer[:79] + "…"

    @admin.display(description="Made from")
    def asked_first(self, fact: HouseFact) -> str:
        """The unanswered question the fact answered, linked, if it was made with "Answer it" (and that question is
        not deleted: questions go after the calls' retention period)."""
        if fact.source is None:
            return "-"
        url = reverse("admin:dispatch_unansweredquestion_change", args=[fact.source_id])
        return format_html('<a href="{}">{}</a>', url, fact.source.question)


@admin.register(Allergen, DietaryTag)
class FixedListAdmin(admin.ModelAdmin):
    """The 14 EU allergen groups and the dietary tags are fixed lists the agent relies on: read-only."""

    list_display = ["name", "code"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
