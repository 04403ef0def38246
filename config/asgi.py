"""ASGI entry point: Django over Channels (daphne in development, any ASGI server in production).

HTTP goes to Django (ROOT_URLCONF); websockets to the routes of settings.WEBSOCKET_URLCONF (the staff's live pages,
config/routing.py), with the user read from Django's session cookie, and only from pages whose Origin is one
of ALLOWED_HOSTS.
"""

import gc
import os
from importlib import import_module

from channels.routing import ProtocolTypeRouter, URLRouter
from django.conf import settings
from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

django_asgi_app = get_asgi_application()

# Imported once Django is set up (get_asgi_application above): they load models.
from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402

# Named by a setting, as Django's URLconf is (config reaches the apps through settings, not imports); imported
# once Django is set up, as the routes load models.
websocket_urlpatterns = import_module(settings.WEBSOCKET_URLCONF).websocket_urlpatterns

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        "websocket": AllowedHostsOriginValidator(AuthMiddlewareStack(URLRouter(websocket_urlpatterns))),
    }
)
# Everything loaded so far lives as long as the process: keep it out of the garbage collector's full passes,
# which otherwise scan it all and stalled one request in twenty by ~160 ms at 200 restaurants (bench/picker.py).
gc.freeze()
