"""Restaurant.order_webhook_url (empty: no order webhooks) and order_webhook_secret, the Standard Webhooks signing
secret. Each existing restaurant gets a secret of its own: AddField computes a callable default once for every
existing row, so the field is added empty, filled row by row, and only then given its default."""

from django.db import migrations, models

import restaurants.models


def give_each_a_secret(apps, schema_editor):
    Restaurant = apps.get_model("restaurants", "Restaurant")
    for restaurant in Restaurant.objects.using(schema_editor.connection.alias).filter(order_webhook_secret=""):
        restaurant.order_webhook_secret = restaurants.models.new_webhook_secret()
        restaurant.save(update_fields=["order_webhook_secret"])


class Migration(migrations.Migration):
    dependencies = [("restaurants", "0011_takeout_modifiers")]

    operations = [
        migrations.AddField(
            model_name="restaurant",
            name="order_webhook_url",
            field=models.URLField(
                blank=True,
                help_text="Each order event (placed, accepted, ready, collected, cancelled, rejected) is sent here as "
                "a signed POST, e.g. to a till (POS) bridge or an SMS service; https:// only. Empty: none is sent.",
                max_length=500,
                validators=[restaurants.models.validate_webhook_url],
                verbose_name="order webhook URL",
            ),
        ),
        migrations.AddField(
            model_name="restaurant",
            name="order_webhook_secret",
            field=models.CharField(default="", editable=False, max_length=100),
            preserve_default=False,
        ),
        migrations.RunPython(give_each_a_secret, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="restaurant",
            name="order_webhook_secret",
            field=models.CharField(
                default=restaurants.models.new_webhook_secret,
                editable=False,
                help_text="Give it to whoever runs the receiver: it checks each delivery with it (Standard Webhooks).",
                max_length=100,
                verbose_name="order webhook signing secret",
            ),
        ),
    ]
