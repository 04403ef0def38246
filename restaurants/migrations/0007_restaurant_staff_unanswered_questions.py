"""Gives the group "Restaurant staff" the queue of questions the agent could not answer: view the questions of
their restaurants, and change them (mark resolved, write a note). Not add (the agent records them) nor delete
(a question is resolved, with a note, rather than thrown away)."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

GROUP = "Restaurant staff"
CODENAMES = ("view_unansweredquestion", "change_unansweredquestion")


def grant(apps, schema_editor):
    using = schema_editor.connection.alias
    # On a fresh database the permissions do not exist yet: post_migrate makes them after all migrations.
    app_config = apps.get_app_config("dispatch")
    app_config.models_module = True
    create_permissions(app_config, verbosity=0, using=using, apps=apps)
    app_config.models_module = None
    Permission = apps.get_model("auth", "Permission")
    group = apps.get_model("auth", "Group").objects.using(using).get(name=GROUP)
    group.permissions.add(*Permission.objects.using(using).filter(content_type__app_label="dispatch", codename__in=CODENAMES))


def revoke(apps, schema_editor):
    using = schema_editor.connection.alias
    group = apps.get_model("auth", "Group").objects.using(using).filter(name=GROUP).first()
    if group:
        group.permissions.remove(*group.permissions.filter(content_type__app_label="dispatch", codename__in=CODENAMES))


class Migration(migrations.Migration):
    dependencies = [("restaurants", "0006_restaurant_staff_group"), ("dispatch", "0004_call_records")]

    operations = [migrations.RunPython(grant, revoke)]
