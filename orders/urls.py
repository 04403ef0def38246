from django.urls import path

from . import views

urlpatterns = [
    path("", views.kitchen, name="staff-orders"),
    path("<int:order_id>/status", views.order_status, name="staff-order-status"),
]
