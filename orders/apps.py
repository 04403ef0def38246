from django.apps import AppConfig


class OrdersConfig(AppConfig):
    name = "orders"
    verbose_name = "Takeout orders"

    def ready(self) -> None:
        from reservations import events as reservation_events

        from . import events, webhooks

        # Each order event, and each reservation event, is recorded for the restaurant's webhook (when it has one)
        # inside the change's transaction. The webhook is this app's: reservations only send their signal.
        events.order_changed.connect(webhooks.record_event, dispatch_uid="orders.webhooks.record_event")
        reservation_events.reservation_changed.connect(
            webhooks.record_reservation_event, dispatch_uid="orders.webhooks.record_reservation_event"
        )
