"""Websocket routes (settings.WEBSOCKET_URLCONF, which config/asgi.py serves), as config/urls.py is for HTTP: each
app's live staff pages (a dispatch.staff.live.LiveConsumer per page), then a refusal for any other path."""

from django.urls import re_path

from dispatch.staff.live import NoSuchSocket
from dispatch.staff.routing import websocket_urlpatterns as staff_calls
from orders.routing import websocket_urlpatterns as kitchen
from reservations.routing import websocket_urlpatterns as reservation_book

websocket_urlpatterns = [
    *staff_calls,  # /ws/staff/calls/
    *kitchen,  # /ws/staff/orders/
    *reservation_book,  # /ws/staff/reservations/
    re_path(r"", NoSuchSocket.as_asgi()),
]
