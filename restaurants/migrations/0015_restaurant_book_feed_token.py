"""Restaurant.book_feed_token, the secret in the address of the restaurant's reservation book as a calendar feed
(reservations.views.book_calendar). Each existing restaurant gets one of its own: AddField computes a callable
default once for every existing row, so the field is added empty, filled row by row, and only then given its
default (as 0012 did for the webhook secret)."""

from django.db import migrations, models

import restaurants.models


def give_each_a_token(apps, schema_editor):
    Restaurant = apps.get_model("restaurants", "Restaurant")
    for restaurant in Restaurant.objects.using(schema_editor.connection.alias).filter(book_feed_token=""):
        restaurant.book_feed_token = restaurants.models.new_book_feed_token()
        restaurant.save(update_fields=["book_feed_token"])


class Migration(migrations.Migration):
    dependencies = [("restaurants", "0014_order_webhook_sends_bookings")]

    operations = [
        migrations.AddField(
            model_name="restaurant",
            name="book_feed_token",
            field=models.CharField(default="", editable=False, max_length=64),
            preserve_default=False,
        ),
        migrations.RunPython(give_each_a_token, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="restaurant",
            name="book_feed_token",
            field=models.CharField(
                default=restaurants.models.new_book_feed_token,
                editable=False,
                help_text="The secret in the address of the restaurant's reservation book as a calendar feed "
                "(reservations' admin shows the address and makes a new one, after which the old address no longer "
                "works).",
                max_length=64,
                verbose_name="reservation calendar key",
            ),
        ),
    ]
