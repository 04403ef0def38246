"""Seeds the fixed lists: the 14 allergen groups of EU Regulation 1169/2011 (Annex II) and dietary tags."""

from django.db import migrations

ALLERGENS = [
    ("gluten", "Cereals containing gluten"),
    ("crustaceans", "Crustaceans"),
    ("eggs", "Eggs"),
    ("fish", "Fish"),
    ("peanuts", "Peanuts"),
    ("soybeans", "Soybeans"),
    ("milk", "Milk"),
    ("nuts", "Tree nuts"),
    ("celery", "Celery"),
    ("mustard", "Mustard"),
    ("sesame", "Sesame seeds"),
    ("sulphites", "Sulphur dioxide and sulphites"),
    ("lupin", "Lupin"),
    ("molluscs", "Molluscs"),
]

DIETARY_TAGS = [
    ("vegan", "Vegan"),
    ("vegetarian", "Vegetarian"),
    ("gluten-free", "Gluten-free"),
    ("dairy-free", "Dairy-free"),
    ("nut-free", "Nut-free"),
    ("halal", "Halal"),
    ("kosher", "Kosher"),
]


def seed(apps, schema_editor):
    for model, rows in (("Allergen", ALLERGENS), ("DietaryTag", DIETARY_TAGS)):
        Model = apps.get_model("restaurants", model)
        for code, name in rows:
            Model.objects.update_or_create(code=code, defaults={"name": name})


class Migration(migrations.Migration):
    dependencies = [("restaurants", "0001_initial")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
