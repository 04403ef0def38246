"""Gives the group "Restaurant staff" their restaurants' tables to add, change, delete and view in admin (the floor
is theirs to keep, as the menu is), and their reservations to view. Not to add, change or delete reservations in
admin: the agent books them, and staff seat, cancel and move them on the day view (/staff/reservations/)."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

GROUP = "Restaurant staff"
CODENAMES = ("add_table", "change_table", "delete_table", "view_table", "view_reservation")


def grant(apps, schema_editor):
    using = schema_editor.connection.alias
    # On a fresh database the permissions do not exist yet: post_migrate makes them after all migrations.
    app_config = apps.get_app_config("reservations")
    app_config.models_module = True
    create_permissions(app_config, verbosity=0, using=using, apps=apps)
    app_config.models_module = None
    Permission = apps.get_model("auth", "Permission")
    group = apps.get_model("auth", "Group").objects.using(using).get(name=GROUP)
    permissions = Permission.objects.using(using).filter(content_type__app_label="reservations", codename__in=CODENAMES)
    group.permissions.add(*permissions)


def revoke(apps, schema_editor):
    using = schema_editor.connection.alias
    group = apps.get_model("auth", "Group").objects.using(using).filter(name=GROUP).first()
    if group:
        mine = group.permissions.filter(content_type__app_label="reservations", codename__in=CODENAMES)
        group.permissions.remove(*mine)


class Migration(migrations.Migration):
    dependencies = [("reservations", "0001_reservation_book"), ("restaurants", "0006_restaurant_staff_group")]

    operations = [migrations.RunPython(grant, revoke)]
