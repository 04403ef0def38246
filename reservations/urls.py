from django.urls import path, re_path

from . import views

urlpatterns = [
    path("", views.day_view, name="staff-reservations"),
    path("<int:reservation_id>/status", views.reservation_status, name="staff-reservation-status"),
    path("<int:reservation_id>/table", views.reservation_table, name="staff-reservation-table"),
    path("walk-in", views.walk_in_add, name="staff-reservation-walk-in"),
    # A secret address per restaurant (Restaurant.book_feed_token), bounded so that nothing else reaches the view.
    re_path(
        r"^calendar/(?P<restaurant_id>[0-9]{1,18})/(?P<token>[A-Za-z0-9_-]{1,64})\.ics$",
        views.book_calendar,
        name="reservations-calendar",
    ),
]
