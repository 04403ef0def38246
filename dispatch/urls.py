from django.urls import path

from . import views

urlpatterns = [
    path("connection-details", views.connection_details, name="connection-details"),
    path("calls/no-agent", views.call_no_agent_view, name="call-no-agent"),
    path("livekit/webhook", views.livekit_webhook, name="livekit-webhook"),
]
