from django.contrib import admin
from django.urls import include, path

admin.site.site_header = "maitre: restaurants, hours and menus"
admin.site.site_title = "maitre admin"
admin.site.enable_nav_sidebar = False  # the dish list needs the width more than a second menu

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/", include("dispatch.urls")),
    path("", include("restaurants.urls")),
]
