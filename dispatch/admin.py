from django.contrib import admin

from restaurants.admin_base import RestaurantScopedAdmin

from .models import Call


@admin.register(Call)
class CallAdmin(RestaurantScopedAdmin, admin.ModelAdmin):
    list_display = ["created_at", "restaurant", "status", "end_reason", "duration", "agent_joined_at", "diner_joined_at"]
    list_filter = ["restaurant", "status", "end_reason"]
    list_select_related = ["restaurant"]
    search_fields = ["room_name", "dispatch_id", "participant_identity"]
    date_hierarchy = "created_at"

    def has_add_permission(self, request) -> bool:
        return False  # calls are recorded by the connection-details endpoint only

    def has_change_permission(self, request, obj=None) -> bool:
        return False
