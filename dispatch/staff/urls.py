from django.urls import path

from . import staff_views

urlpatterns = [
    path("calls/", staff_views.call_list, name="staff-calls"),
    path("calls/<int:call_id>/", staff_views.call_detail, name="staff-call"),
    path("calls/<int:call_id>/listen", staff_views.call_listen, name="staff-call-listen"),
]
