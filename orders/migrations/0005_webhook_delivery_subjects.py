"""A webhook delivery is about an order or a table reservation: `order` becomes optional, `reservation` is added,
and each delivery gets its restaurant (copied from its order for the deliveries already recorded). The next
migration makes the restaurant required and holds exactly one subject; it runs in a transaction of its own, since
PostgreSQL will not alter a table with the backfill's foreign-key checks still pending."""

import django.db.models.deletion
from django.db import migrations, models
from django.db.models import OuterRef, Subquery


def copy_restaurants(apps, schema_editor):
    using = schema_editor.connection.alias
    Order = apps.get_model("orders", "Order")
    WebhookDelivery = apps.get_model("orders", "WebhookDelivery")
    WebhookDelivery.objects.using(using).filter(restaurant__isnull=True).update(
        restaurant_id=Subquery(Order.objects.using(using).filter(pk=OuterRef("order_id")).values("restaurant_id"))
    )


class Migration(migrations.Migration):
    dependencies = [
        ("orders", "0004_restaurant_staff_webhooks"),
        ("reservations", "0001_reservation_book"),
    ]

    operations = [
        migrations.AddField(
            model_name="webhookdelivery",
            name="restaurant",
            field=models.ForeignKey(
                null=True, on_delete=django.db.models.deletion.CASCADE, related_name="+", to="restaurants.restaurant"
            ),
        ),
        migrations.AddField(
            model_name="webhookdelivery",
            name="reservation",
            field=models.ForeignKey(
                blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, related_name="webhook_deliveries",
                to="reservations.reservation",
            ),
        ),
        migrations.AlterField(
            model_name="webhookdelivery",
            name="order",
            field=models.ForeignKey(
                blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, related_name="webhook_deliveries",
                to="orders.order",
            ),
        ),
        migrations.AlterField(
            model_name="webhookdelivery",
            name="event_type",
            field=models.CharField(
                help_text='The event, e.g. "order.placed" or "reservation.made".', max_length=40, verbose_name="type"
            ),
        ),
        migrations.RunPython(copy_restaurants, migrations.RunPython.noop),
    ]
