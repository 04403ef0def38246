from django.contrib import admin
from django.urls import include, path

from config.health import healthz

admin.site.site_header = "maitre: restaurants, hours and menus"
admin.site.site_title = "maitre admin"
admin.site.enable_nav_sidebar = False  # the dish list needs the width more than a second menu

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("api/", include("dispatch.urls")),
    path("staff/orders/", include("orders.urls")),
    path("staff/reservations/", include("reservations.urls")),
    path("staff/insights/", include("insights.urls")),
    path("staff/", include("dispatch.staff.urls")),
    path("", include("restaurants.urls")),
]

# JSON errors under /api/ (the diner's page shows their sentence), Django's pages elsewhere.
handler400 = "dispatch.views.bad_request"
handler403 = "dispatch.views.permission_denied"
handler404 = "dispatch.views.page_not_found"
handler500 = "dispatch.views.server_error"
