"""The fixed lists staff pick from and the agent relies on, as (code, name): the 14 allergen groups of EU
Regulation 1169/2011 (Annex II) and the dietary tags. Migration 0002 seeds them; DietaryTag.CODES (the
agent's get_menu choices) reads them. Plain data: no Django import, so the migration can use it."""

ALLERGENS = (
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
)

DIETARY_TAGS = (
    ("vegan", "Vegan"),
    ("vegetarian", "Vegetarian"),
    ("gluten-free", "Gluten-free"),
    ("dairy-free", "Dairy-free"),
    ("nut-free", "Nut-free"),
    ("halal", "Halal"),
    ("kosher", "Kosher"),
)
