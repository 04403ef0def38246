"""Creates the group "Restaurant staff": the model permissions a restaurant's staff need in admin.

Which rows a staff member sees is decided by `Restaurant.staff` (restaurants/admin_base.py); the group decides
what they may do with them. A superuser adds a login to this group and to restaurants.

- restaurant: view and change (their restaurant's details, hours, special days and menu sections are on its
  page). Not add or delete: a superuser creates a restaurant and picks its staff, and deleting one takes its
  whole menu with it.
- service period, special day, menu section, menu item: add, change, delete and view; the opening hours and
  the menu are theirs to keep.
- allergen, dietary tag: view; fixed lists the agent relies on, which dishes are tagged from.
- call: view; the read-only call log of their restaurants.
- nothing on users, groups or permissions, so a staff member cannot give themselves more.
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

GROUP = "Restaurant staff"
EDIT = ("add", "change", "delete", "view")
PERMISSIONS = {
    "restaurants": {
        "restaurant": ("view", "change"),
        "serviceperiod": EDIT,
        "specialday": EDIT,
        "menusection": EDIT,
        "menuitem": EDIT,
        "allergen": ("view",),
        "dietarytag": ("view",),
    },
    "dispatch": {"call": ("view",)},
}


def create_group(apps, schema_editor):
    using = schema_editor.connection.alias
    for app_label in PERMISSIONS:
        # On a fresh database the permissions do not exist yet: post_migrate makes them after all migrations.
        # create_permissions skips an app config without a models module, which historical ones lack.
        app_config = apps.get_app_config(app_label)
        app_config.models_module = True
        create_permissions(app_config, verbosity=0, using=using, apps=apps)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group, _ = Group.objects.using(using).get_or_create(name=GROUP)
    group.permissions.set(
        Permission.objects.using(using).get(content_type__app_label=app_label, codename=f"{action}_{model}")
        for app_label, models in PERMISSIONS.items()
        for model, actions in models.items()
        for action in actions
    )


def remove_group(apps, schema_editor):
    apps.get_model("auth", "Group").objects.using(schema_editor.connection.alias).filter(name=GROUP).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("restaurants", "0005_restaurant_staff"),
        ("dispatch", "0003_cache_table"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_group, remove_group)]
