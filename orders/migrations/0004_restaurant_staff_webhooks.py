"""Gives the group "Restaurant staff" their restaurants' order webhook deliveries and attempts to view in admin (and
so to retry one that gave up). Not add, change or delete: deliveries are recorded by orders.webhooks."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

GROUP = "Restaurant staff"
CODENAMES = ("view_webhookdelivery", "view_webhookattempt")


def grant(apps, schema_editor):
    using = schema_editor.connection.alias
    # On a fresh database the permissions do not exist yet: post_migrate makes them after all migrations.
    app_config = apps.get_app_config("orders")
    app_config.models_module = True
    create_permissions(app_config, verbosity=0, using=using, apps=apps)
    app_config.models_module = None
    Permission = apps.get_model("auth", "Permission")
    group = apps.get_model("auth", "Group").objects.using(using).get(name=GROUP)
    permissions = Permission.objects.using(using).filter(content_type__app_label="orders", codename__in=CODENAMES)
    group.permissions.add(*permissions)


def revoke(apps, schema_editor):
    using = schema_editor.connection.alias
    group = apps.get_model("auth", "Group").objects.using(using).filter(name=GROUP).first()
    if group:
        group.permissions.remove(*group.permissions.filter(content_type__app_label="orders", codename__in=CODENAMES))


class Migration(migrations.Migration):
    dependencies = [("orders", "0003_webhook_deliveries"), ("restaurants", "0006_restaurant_staff_group")]

    operations = [migrations.RunPython(grant, revoke)]
