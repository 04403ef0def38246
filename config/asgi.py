"""ASGI entry point: Django over Channels (daphne in development, any ASGI server in production)."""

import os

from channels.routing import ProtocolTypeRouter
from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

django_asgi_app = get_asgi_application()

# No websocket consumers yet: the browser's media and data go through LiveKit, not through Django.
application = ProtocolTypeRouter({"http": django_asgi_app})
