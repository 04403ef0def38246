"""Websocket routes (settings.WEBSOCKET_URLCONF, which config/asgi.py serves): each live staff page's connection,
a LiveConsumer for its topic and feed (dispatch.staff.live); any other path is refused."""

from django.urls import path, re_path

from .events import CALLS
from .feed import CallsFeed
from .live import LiveConsumer, NoSuchSocket

websocket_urlpatterns = [
    # The list of calls, and one call's page with ?call=<id>.
    path("ws/staff/calls/", LiveConsumer.as_asgi(topic=CALLS, feed_class=CallsFeed)),
    re_path(r"", NoSuchSocket.as_asgi()),
]
