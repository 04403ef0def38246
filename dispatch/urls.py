from django.urls import path

from . import views

urlpatterns = [path("connection-details", views.connection_details, name="connection-details")]
