"""Admin for restaurant staff: a restaurant with its hours and menu sections on one page; dishes in a list
where availability is one click ("86" a dish). Every admin here is scoped to the staff member's restaurants
(`RestaurantScopedAdmin`); only superusers create restaurants and pick their staff."""

from collections.abc import Iterable

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.text import capfirst
from django.utils.translation import ngettext

from . import hours
from .admin_base import RestaurantScopedAdmin, one_click_button, one_click_view
from .models import Allergen, DietaryTag, MenuItem, MenuSection, Restaurant, ServicePeriod, SpecialDay


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
        ("Questions the agent could not answer", {"fields": ["open_questions"]}),
    ]  # fmt: skip
    filter_horizontal = ["staff"]

    def get_fieldsets(self, request, obj=None):
        if not request.user.is_superuser:
            return self.fieldsets
        return [*self.fieldsets, ("Staff", {"fields": ["staff"]})]

    def get_readonly_fields(self, request, obj=None):
        # Simultaneous calls share the workers every restaurant uses: sized by whoever runs them.
        return ["open_questions"] if request.user.is_superuser else ["open_questions", "max_concurrent_calls"]

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


@admin.register(MenuItem)
class MenuItemAdmin(RestaurantScopedAdmin, admin.ModelAdmin):
    restaurant_path = "section__restaurant"
    list_display = ["name", "section_name", "restaurant_name", "price_text", "availability", "allergens_confirmed"]
    list_filter = ["section__restaurant", "section", "is_available", "dietary_tags", "allergens_confirmed"]
    list_select_related = ["section__restaurant"]
    search_fields = ["name", "description", "section__name", "section__restaurant__name"]
    filter_horizontal = ["dietary_tags", "allergens"]
    actions = ["mark_available", "mark_unavailable"]
    fields = [
        "section", "name", "description", "price", "is_available", "position",
        "dietary_tags", "allergens", "allergens_confirmed",
    ]  # fmt: skip

    @admin.display(description="Section", ordering="section__name")
    def section_name(self, obj: MenuItem) -> str:
        return obj.section.name

    @admin.display(description="Restaurant", ordering="section__restaurant__name")
    def restaurant_name(self, obj: MenuItem) -> str:
        return obj.section.restaurant.name

    @admin.display(description="Price", ordering="price")
    def price_text(self, obj: MenuItem) -> str:
        return obj.section.restaurant.format_price(obj.price)

    @admin.display(description="Available", ordering="is_available")
    def availability(self, obj: MenuItem) -> str:
        """The dish's state and a button that flips it: one click "86"s a dish or brings it back.

        The button submits the list's own form (the rows sit inside it, and forms cannot nest) to
        `availability_view`, with the state it asks for, so a double click or a stale page cannot flip it back.
        """
        if obj.is_available:
            state, label, aria = "Yes", "86 it", f"Mark {obj.name} unavailable"
        else:
            state, label, aria = "No (86)", "Back on", f"Mark {obj.name} available again"
        url = reverse("admin:restaurants_menuitem_availability", args=[obj.pk])
        button = one_click_button(url=url, field="is_available", wanted=not obj.is_available, label=label, aria_label=aria)
        return format_html("{} {}", state, button)

    def get_urls(self):
        view = self.admin_site.admin_view(self.availability_view)
        return [path("<int:pk>/availability/", view, name="restaurants_menuitem_availability"), *super().get_urls()]

    def availability_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        """POST is_available=1|0: sets the dish's availability, then back to the list the staff member was on."""

        def apply(request, items, available: bool) -> str:
            self.set_availability(request, items, available)
            status = "available again" if available else 'marked unavailable ("86")'
            return f"{items[0].name} is {status}."

        changelist = reverse("admin:restaurants_menuitem_changelist")
        return one_click_view(self, request, pk, field="is_available", apply=apply, changelist=changelist)

    def set_availability(self, request: HttpRequest, items: Iterable[MenuItem], available: bool) -> int:
        """Makes the dishes available or not; returns how many changed.

        Each dish whose availability differs is saved (that field alone) and gets an admin log entry like an
        edit of the field on its change page.
        """
        changed = [item for item in items if item.is_available != available]
        label = capfirst(MenuItem._meta.get_field("is_available").verbose_name)
        for item in changed:
            item.is_available = available
            item.save(update_fields=["is_available"])
            self.log_change(request, item, [{"changed": {"fields": [label]}}])
        return len(changed)

    @admin.action(description="Mark selected dishes available")
    def mark_available(self, request, queryset) -> None:
        n = self.set_availability(request, queryset, True)
        self.message_user(request, ngettext("%d dish is available again.", "%d dishes are available again.", n) % n)

    @admin.action(description='Mark selected dishes unavailable ("86")')
    def mark_unavailable(self, request, queryset) -> None:
        n = self.set_availability(request, queryset, False)
        self.message_user(request, ngettext("%d dish is marked unavailable.", "%d dishes are marked unavailable.", n) % n)


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
