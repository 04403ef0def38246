"""Gives the group "Restaurant staff" their restaurants' house facts: view, add, change and delete. A house fact is
the restaurant's own answer to a diner's question ("Is there parking?"), its own business like its menu."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

GROUP = "Restaurant staff"
CODENAMES = ("view_housefact", "add_housefact", "change_housefact", "delete_housefact")


def grant(apps, schema_editor):
    using = schema_editor.connection.alias
    # On a fresh database the permissions do not exist yet: post_migrate makes them after all migrations.
    app_config = apps.get_app_config("restaurants")
    app_config.models_module = True
    create_permissions(app_config, verbosity=0, using=using, apps=apps)
    app_config.models_module = None
    Permission = apps.get_model("auth", "Permission")
    group = apps.get_model("auth", "Group").objects.using(using).get(name=GROUP)
    group.permissions.add(
        *Permission.objects.using(using).filter(content_type__app_label="restaurants", codename__in=CODENAMES)
    )


def revoke(apps, schema_editor):
    using = schema_editor.connection.alias
    group = apps.get_model("auth", "Group").objects.using(using).filter(name=GROUP).first()
    if group:
        group.permissions.remove(
            *group.permissions.filter(content_type__app_label="restaurants", codename__in=CODENAMES)
        )


class Migration(migrations.Migration):
    dependencies = [("restaurants", "0016_house_facts"), ("restaurants", "0006_restaurant_staff_group")]

    operations = [migrations.RunPython(grant, revoke)]
