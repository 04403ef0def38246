"""Websocket routes (config/asgi.py): the staff's live view of calls; any other path is refused."""

from django.urls import path, re_path

from . import consumers

websocket_urlpatterns = [
    path("ws/staff/calls/", consumers.StaffCallsConsumer.as_asgi()),
    re_path(r"", consumers.NoSuchSocket.as_asgi()),
]
