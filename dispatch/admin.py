from django.contrib import admin

from restaurants.admin_base import RestaurantScopedAdmin

from .models import Call


@admin.register(Call)
class CallAdmin(RestaurantScopedAdmin, admin.ModelAdmin):
    list_display = ["created_at", "restaurant", "room_name", "dispatch_id"]
    list_filter = ["restaurant"]
    list_select_related = ["restaurant"]
    search_fields = ["room_name", "dispatch_id", "participant_identity"]
    date_hierarchy = "created_at"
    readonly_fields = ["restaurant", "room_name", "dispatch_id", "participant_identity", "created_at"]

    def has_add_permission(self, request) -> bool:
        return False  # calls are recorded by the connection-details endpoint only

    def has_change_permission(self, request, obj=None) -> bool:
        return False
