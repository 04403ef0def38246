"""Every webhook delivery has its restaurant, and exactly one subject: an order or a reservation, kept in order
per reservation as per order (the index)."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("orders", "0005_webhook_delivery_subjects")]

    operations = [
        migrations.AlterField(
            model_name="webhookdelivery",
            name="restaurant",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.CASCADE, related_name="+", to="restaurants.restaurant"
            ),
        ),
        migrations.AddConstraint(
            model_name="webhookdelivery",
            constraint=models.CheckConstraint(
                condition=models.Q(order__isnull=False, reservation__isnull=True)
                | models.Q(order__isnull=True, reservation__isnull=False),
                name="webhook_delivery_one_subject",
            ),
        ),
        migrations.AddIndex(
            model_name="webhookdelivery",
            index=models.Index(fields=["reservation", "id"], name="webhook_delivery_reservation"),
        ),
    ]
