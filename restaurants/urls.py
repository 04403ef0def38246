from django.urls import path

from . import views

urlpatterns = [
    path("", views.restaurant_list, name="restaurant-list"),
    path("r/<slug:slug>/", views.restaurant_detail, name="restaurant-detail"),
]
