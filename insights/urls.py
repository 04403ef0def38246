from django.urls import path

from . import views

urlpatterns = [
    path("", views.insights_page, name="staff-insights"),
    path("calls.csv", views.calls_csv, name="staff-insights-csv"),
]
