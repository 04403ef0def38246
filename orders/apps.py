from django.apps import AppConfig


class OrdersConfig(AppConfig):
    name = "orders"
    verbose_name = "Takeout orders"

    def ready(self) -> None:
        from . import events, webhooks

        # Each committed order event is recorded for the restaurant's order webhook (when it has one).
        events.order_changed.connect(webhooks.record_event, dispatch_uid="orders.webhooks.record_event")
