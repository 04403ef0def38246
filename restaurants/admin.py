"""Admin for restaurant staff: a restaurant with its hours and menu sections on one page; dishes in a list
where availability is one click ("86" a dish)."""

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError

from . import hours
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


class ServicePeriodInline(admin.TabularInline):
    model = ServicePeriod
    formset = ServicePeriodFormSet
    fields = ["weekday", "opens", "closes", "label"]
    extra = 0


class SpecialDayInline(admin.TabularInline):
    model = SpecialDay
    fields = ["date", "is_closed", "opens", "closes", "note"]
    extra = 0


class MenuSectionInline(admin.TabularInline):
    model = MenuSection
    fields = ["name", "position"]
    extra = 0
    show_change_link = True


@admin.register(Restaurant)
class RestaurantAdmin(admin.ModelAdmin):
    list_display = ["name", "cuisine", "city", "time_zone", "language", "is_active", "opening_status"]
    list_filter = ["is_active", "country", "cuisine"]
    list_editable = ["is_active"]
    search_fields = ["name", "slug", "cuisine", "city"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [ServicePeriodInline, SpecialDayInline, MenuSectionInline]
    fieldsets = [
        (None, {"fields": ["name", "slug", "cuisine", "description", "is_active"]}),
        ("Where", {"fields": ["street_address", "postal_code", "city", "country", "phone", "time_zone"]}),
        ("Voice agent", {"fields": ["language", "currency", "greeting", "tts_voice", "turn_taking", "agent_instructions"]}),
    ]

    @admin.display(description="Now")
    def opening_status(self, obj: Restaurant) -> str:
        return obj.status_text()


class MenuItemInline(admin.TabularInline):
    model = MenuItem
    fields = ["name", "price", "is_available", "position"]
    extra = 0
    show_change_link = True


@admin.register(MenuSection)
class MenuSectionAdmin(admin.ModelAdmin):
    list_display = ["name", "restaurant", "position"]
    list_filter = ["restaurant"]
    list_select_related = ["restaurant"]
    search_fields = ["name", "restaurant__name"]
    inlines = [MenuItemInline]


@admin.register(MenuItem)
class MenuItemAdmin(admin.ModelAdmin):
    list_display = ["name", "restaurant_name", "section", "price", "is_available", "allergens_confirmed"]
    list_editable = ["is_available"]
    list_filter = ["section__restaurant", "section", "is_available", "dietary_tags", "allergens_confirmed"]
    list_select_related = ["section__restaurant"]
    search_fields = ["name", "description", "section__name", "section__restaurant__name"]
    filter_horizontal = ["dietary_tags", "allergens"]
    actions = ["mark_available", "mark_unavailable"]
    fields = [
        "section", "name", "description", "price", "is_available", "position",
        "dietary_tags", "allergens", "allergens_confirmed",
    ]  # fmt: skip

    @admin.display(description="Restaurant", ordering="section__restaurant__name")
    def restaurant_name(self, obj: MenuItem) -> str:
        return obj.section.restaurant.name

    @admin.action(description="Mark selected dishes available")
    def mark_available(self, request, queryset) -> None:
        self.message_user(request, f"{queryset.update(is_available=True)} dishes are available again.")

    @admin.action(description='Mark selected dishes unavailable ("86")')
    def mark_unavailable(self, request, queryset) -> None:
        self.message_user(request, f"{queryset.update(is_available=False)} dishes are marked unavailable.")


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
