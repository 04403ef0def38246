"""Seeds the fixed lists: the 14 allergen groups of EU Regulation 1169/2011 (Annex II) and dietary tags."""

from django.db import migrations

# The lists live in one place; later changes to them go in a migration of their own that seeds them again.
from restaurants.fixed_lists import ALLERGENS, DIETARY_TAGS


def seed(apps, schema_editor):
    for model, rows in (("Allergen", ALLERGENS), ("DietaryTag", DIETARY_TAGS)):
        Model = apps.get_model("restaurants", model)
        for code, name in rows:
            Model.objects.update_or_create(code=code, defaults={"name": name})


class Migration(migrations.Migration):
    dependencies = [("restaurants", "0001_initial")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
