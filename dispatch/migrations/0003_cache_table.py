"""Creates the database cache's table (settings.CACHES without REDIS_URL), so `migrate` is all a deployment runs.

`createcachetable` makes only the tables of database caches that are missing, and nothing for a Redis cache.
"""

from django.core.management import call_command
from django.db import migrations


def create_cache_table(apps, schema_editor):
    call_command("createcachetable", database=schema_editor.connection.alias, verbosity=0)


class Migration(migrations.Migration):
    dependencies = [("dispatch", "0002_call_course")]

    operations = [migrations.RunPython(create_cache_table, migrations.RunPython.noop, elidable=True)]
