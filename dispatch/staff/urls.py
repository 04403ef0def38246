from django.urls import path

from . import views

urlpatterns = [
    path("calls/", views.call_list, name="staff-calls"),
    path("calls/<int:call_id>/", views.call_detail, name="staff-call"),
    path("calls/<int:call_id>/listen", views.call_listen, name="staff-call-listen"),
]
