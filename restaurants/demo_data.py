"""The six demo restaurants that `manage.py load_demo` loads, as plain data.

Each restaurant: its model fields, weekly `hours` as (weekdays, opens, closes, label), `special_days` placed
relative to today ("in_days") or on the next occurrence of a date ("on": "MM-DD"), and a `menu` of
(section, dishes), each dish (name, price, description, dietary tag codes, allergen codes). Prices are in
the restaurant's currency. `sold_out` names dishes that are "86"ed; `allergens_unconfirmed` names dishes
whose allergen list the kitchen has not checked yet (all others are confirmed). Phone numbers are in ranges
set aside for fiction (Ofcom's 020 7946 0xxx, France's 01 99 00 xx xx, the US 555-01xx, Australia's 02 5550
xxxx...).

Three restaurants take takeout orders (`takeout`: the kitchen's pace; the others take none). Their `choices`
give dishes modifier groups, in the order the agent asks them, each (name, min choices, max choices,
[(modifier, price change)]); `choices_sold_out` names modifiers that are "86"ed on every dish that has them.
Extras add no allergen the dish does not already list (modifiers carry no allergens of their own).

Two restaurants take table reservations (`reservations`): their booking settings, their floor as `tables`
(name, fewest seats, most seats), `bookings` already made (days ahead, local time, party size, guest, phone,
notes), and `full_evening`: every table booked in each of `waves` (local start times) on the next `weekday` at
least two days ahead that is not a special day, so that a guest asking for that evening hears the nearest times.
"""

MON, TUE, WED, THU, FRI, SAT, SUN = range(7)
EVERY_DAY = (MON, TUE, WED, THU, FRI, SAT, SUN)

# Modifier groups shared by several dishes: required single choices (1/1), optional extras with a maximum below
# the number of options (0/3 of 4), and sizes whose small one costs less than the dish.
SALSA = ("Choose your salsa", 1, 1, [("Salsa roja", "0"), ("Salsa verde", "0"), ("Habanero", "0")])
TACO_EXTRAS = ("Extras", 0, 3, [
    ("Guacamole", "1.50"), ("Pickled jalapeños", "0.50"), ("Grilled onions", "0.50"), ("Grilled pineapple", "0.75"),
])  # fmt: skip
BURRITO_EXTRAS = ("Extras", 0, 3, [
    ("Guacamole", "2.00"), ("Sour cream", "0.75"), ("Extra cheese", "1.00"), ("Pickled jalapeños", "0.50"),
])  # fmt: skip
DRINK_SIZE = ("Size", 1, 1, [("Small", "-1.50"), ("Regular", "0"), ("Large", "1.25")])
ROAST_EXTRAS = ("Extras", 0, 2, [
    ("Extra Yorkshire pudding", "1.50"), ("Extra roast potatoes", "2.50"), ("Extra gravy", "1.00"),
])  # fmt: skip
SPICE = ("Spice level", 1, 1, [("Mild", "0"), ("Medium", "0"), ("Hot", "0")])

RESTAURANTS = [
    {
        "slug": "the-copper-kettle",
        "name": "The Copper Kettle",
        "cuisine": "British gastropub",
        "description": "Seasonal British cooking, cask ales and a proper Sunday roast by the canal.",
        "street_address": "14 Wharf Road",
        "city": "London",
        "postal_code": "N1 7RZ",
        "country": "GB",
        "phone": "+442079460123",
        "time_zone": "Europe/London",
        "language": "en-GB",
        "currency": "GBP",
        "greeting": "Hello, you're through to The Copper Kettle. How can I help?",
        "agent_instructions": (
            "We take table bookings for up to 8 guests; larger groups should email the pub. "
            "Dogs are welcome in the bar. The kitchen takes last orders 15 minutes before closing. "
            "The Sunday roast is served until it sells out."
        ),
        "tts_voice": "sage",
        "turn_taking": "balanced",
        "hours": [
            ((MON, TUE, WED, THU, FRI), "12:00", "15:00", "Lunch"),
            ((MON, TUE, WED, THU, FRI), "17:30", "22:00", "Dinner"),
            ((SAT,), "12:00", "22:30", ""),
            ((SUN,), "12:00", "18:00", "Sunday roast"),
        ],
        "special_days": [
            {"on": "12-25", "note": "Christmas Day"},
            {"on": "12-26", "opens": "12:00", "closes": "17:00", "note": "Boxing Day"},
        ],
        "menu": [
            ("Starters", [
                ("Soup of the day", "6.50", "Ask for today's soup; with sourdough and salted butter.",
                 "vegetarian", "gluten milk celery"),
                ("Scotch egg", "7.00", "Free-range egg in Cumberland sausage meat, piccalilli.",
                 "", "eggs gluten mustard sulphites"),
                ("Smoked mackerel pâté", "8.00", "Horseradish, pickled cucumber, toast.",
                 "", "fish milk gluten"),
                ("Heritage beetroot salad", "7.50", "Whipped goat's curd, candied walnuts.",
                 "vegetarian gluten-free", "milk nuts"),
            ]),
            ("Mains", [
                ("Beer-battered haddock and chips", "17.50", "Mushy peas, tartare sauce.",
                 "", "fish gluten eggs mustard"),
                ("Steak and ale pie", "18.00", "Shortcrust pastry, mash, buttered greens.",
                 "", "gluten milk eggs celery"),
                ("28-day aged sirloin", "29.00", "Chips, watercress, peppercorn sauce.",
                 "gluten-free", "milk celery"),
                ("Wild mushroom and leek pie", "16.00", "Vegan shortcrust, mash, greens.",
                 "vegan dairy-free", "gluten celery"),
                ("Pan-roasted hake", "21.00", "Mussels, samphire, brown shrimp butter.",
                 "gluten-free", "fish molluscs crustaceans milk"),
            ]),
            ("Sunday roast", [
                ("Roast rump of beef", "22.00", "Yorkshire pudding, roast potatoes, seasonal vegetables, gravy.",
                 "", "gluten eggs milk celery sulphites"),
                ("Roast chicken", "19.00", "Yorkshire pudding, roast potatoes, seasonal vegetables, gravy.",
                 "", "gluten eggs milk celery"),
                ("Nut roast", "17.00", "Chestnut, squash and cranberry; vegan gravy.",
                 "vegan dairy-free", "nuts celery gluten"),
            ]),
            ("Sides", [
                ("Chips", "4.50", "Triple-cooked, in the same fryer as the battered fish.",
                 "dairy-free", "gluten fish"),
                ("Buttered greens", "4.50", "", "vegetarian gluten-free", "milk"),
                ("Cauliflower cheese", "5.00", "", "vegetarian", "milk gluten mustard"),
            ]),
            ("Puddings", [
                ("Sticky toffee pudding", "8.00", "Toffee sauce, clotted cream.", "vegetarian", "gluten eggs milk"),
                ("Bramley apple crumble", "7.50", "With custard.", "vegetarian", "gluten milk eggs"),
                ("Dark chocolate torte", "8.00", "Hazelnut praline, coconut sorbet.",
                 "vegan gluten-free dairy-free", "nuts soybeans"),
                ("British cheeseboard", "11.00", "Three cheeses, oatcakes, apple chutney.",
                 "vegetarian", "milk gluten sulphites"),
            ]),
        ],
        "sold_out": ["Pan-roasted hake"],
        "allergens_unconfirmed": ["Soup of the day"],
        "takeout": {"pickup_lead_minutes": 25, "orders_per_slot": 4, "last_order_minutes": 30},
        "choices": {
            "Beer-battered haddock and chips": [
                ("Portion", 1, 1, [("Regular", "0"), ("Small", "-4.00")]),
                ("Extras", 0, 2, [("Curry sauce", "1.50"), ("Extra tartare sauce", "0.80"), ("Lemon wedge", "0")]),
            ],
            "28-day aged sirloin": [
                ("How would you like it cooked?", 1, 1, [
                    ("Rare", "0"), ("Medium rare", "0"), ("Medium", "0"), ("Well done", "0"),
                ]),
            ],  # fmt: skip
            "Roast rump of beef": [ROAST_EXTRAS],
            "Roast chicken": [ROAST_EXTRAS],
            "Chips": [("Size", 1, 1, [("Regular", "0"), ("Large", "1.50")])],
        },
        "choices_sold_out": ["Extra Yorkshire pudding"],
        "reservations": {
            "settings": {"max_party_size": 8, "booking_notice_minutes": 60, "last_seating_minutes": 60},
            "tables": [
                ("Window 1", 1, 2), ("Window 2", 1, 2), ("Table 3", 2, 4), ("Table 4", 2, 4), ("Table 5", 2, 4),
                ("The Snug", 4, 8),
            ],
            "bookings": [
                (1, "13:00", 2, "Priya Shah", "+442079460321", ""),
                (2, "19:00", 4, "Tom Hughes", "+442079460456", "Birthday: a candle in the pudding, please."),
                (3, "18:30", 6, "Ellie Morgan", "+442079460789", "One high chair."),
            ],
            "full_evening": {"weekday": SAT, "waves": ["18:00", "19:30", "21:00"], "party": 4},
        },
    },
    {
        "slug": "zum-goldenen-hirsch",
        "name": "Zum Goldenen Hirsch",
        "cuisine": "Bavarian Wirtshaus",
        "description": "Bayerische Wirtshausküche, Biergarten unter Kastanien und frisch gezapftes Helles.",
        "street_address": "Hirschgasse 7",
        "city": "München",
        "postal_code": "80331",
        "country": "DE",
        "phone": "+498923050417",
        "time_zone": "Europe/Berlin",
        "language": "de-DE",
        "currency": "EUR",
        "greeting": "Grüß Gott im Goldenen Hirschen! Wie kann ich Ihnen helfen?",
        "agent_instructions": (
            "Tischreservierungen nehmen wir für bis zu 10 Personen an. Hunde sind im Biergarten willkommen. "
            "Weißwürste gibt es nur bis 12 Uhr."
        ),
        "tts_voice": "ash",
        "turn_taking": "patient",
        "hours": [
            ((TUE, WED, THU, FRI, SAT), "11:00", "23:00", ""),
            ((SUN,), "10:00", "22:00", "Frühschoppen ab 10 Uhr"),
        ],
        "special_days": [
            {"on": "12-24", "note": "Heiligabend"},
            {"in_days": 3, "note": "Geschlossene Gesellschaft"},
            {"in_days": 9, "opens": "17:00", "closes": "23:00", "note": "Betriebsausflug, erst ab 17 Uhr"},
        ],
        "menu": [
            ("Vorspeisen und Brotzeit", [
                ("Obatzda mit Brezn", "8.90", "Angemachter Camembert mit Zwiebeln und Paprika, frische Brezn.",
                 "vegetarian", "milk gluten"),
                ("Leberknödelsuppe", "6.50", "Kräftige Rinderbrühe mit hausgemachtem Leberknödel.",
                 "", "gluten eggs celery milk"),
                ("Weißwürste (2 Stück)", "7.80", "Mit süßem Senf und Brezn, nur bis 12 Uhr.",
                 "", "mustard gluten"),
                ("Wurstsalat", "9.50", "Regensburger, Zwiebeln, Essiggurken, Essig-Öl-Marinade.",
                 "gluten-free dairy-free", "mustard sulphites celery"),
            ]),
            ("Hauptgerichte", [
                ("Schweinsbraten", "17.90", "Mit Dunkelbiersoße, Kartoffelknödel und Krautsalat.",
                 "", "gluten celery milk eggs"),
                ("Schweinshaxe", "21.50", "Knusprige Haxe mit Kartoffelknödel und Blaukraut.",
                 "", "gluten celery milk eggs sulphites"),
                ("Wiener Schnitzel vom Kalb", "26.90", "Mit Kartoffel-Gurken-Salat und Preiselbeeren.",
                 "", "gluten eggs milk mustard"),
                ("Käsespätzle", "15.50", "Mit Bergkäse und Röstzwiebeln.", "vegetarian", "gluten eggs milk"),
                ("Ofengemüse mit Kräuterseitlingen", "14.90", "Gemüse der Saison aus dem Ofen, Kräuteröl.",
                 "vegan gluten-free dairy-free", ""),
                ("Forelle Müllerin", "22.00", "Ganze Forelle in Butter gebraten, Petersilienkartoffeln.",
                 "", "fish milk gluten"),
            ]),
            ("Beilagen", [
                ("Kartoffelknödel", "4.50", "", "vegetarian", "gluten eggs"),
                ("Krautsalat", "3.90", "", "vegan gluten-free dairy-free", ""),
                ("Brezn", "2.20", "", "vegan", "gluten"),
            ]),
            ("Nachspeisen", [
                ("Apfelstrudel", "7.50", "Mit Vanillesoße.", "vegetarian", "gluten milk eggs"),
                ("Kaiserschmarrn", "11.90", "Mit Zwetschgenröster.", "vegetarian", "gluten eggs milk"),
                ("Bayerische Creme", "6.90", "Mit Beerenragout.", "vegetarian gluten-free", "milk eggs"),
            ]),
            ("Getränke", [
                ("Helles 0,5 l", "4.90", "Vom Fass.", "vegan", "gluten"),
                ("Weißbier 0,5 l", "5.20", "", "vegan", "gluten"),
                ("Apfelschorle 0,5 l", "3.90", "", "vegan gluten-free", ""),
            ]),
        ],
        "sold_out": ["Schweinshaxe"],
        "allergens_unconfirmed": ["Apfelstrudel"],
    },
    {
        "slug": "izakaya-koyo",
        "name": "Izakaya Kōyō",
        "cuisine": "Japanese izakaya",
        "description": "Charcoal yakitori, small plates and sake under the railway arches in Yūrakuchō.",
        "street_address": "2-4-9 Yūrakuchō, Chiyoda-ku",
        "city": "Tokyo",
        "postal_code": "100-0006",
        "country": "JP",
        "phone": "+81312345678",
        "time_zone": "Asia/Tokyo",
        "language": "en-US",
        "currency": "JPY",
        "greeting": "Irasshaimase! Welcome to Izakaya Kōyō. How can I help you?",
        "agent_instructions": (
            "Seating is first come, first served; we only reserve for groups of 6 or more. "
            "There is a 500 yen table charge per person, which includes a small appetiser."
        ),
        "tts_voice": "verse",
        "turn_taking": "balanced",
        "hours": [
            ((MON, TUE, WED, THU), "17:00", "00:30", ""),
            ((FRI, SAT), "17:00", "02:00", ""),
        ],
        "special_days": [
            {"on": "12-31", "opens": "17:00", "closes": "23:00", "note": "New Year's Eve"},
            {"on": "01-01", "note": "New Year's Day"},
            {"in_days": 5, "note": "Staff holiday"},
        ],
        "menu": [
            ("Small plates", [
                ("Edamame", "480", "Salted green soybeans.", "vegan gluten-free", "soybeans"),
                ("Agedashi tofu", "680", "Fried tofu in dashi broth with grated daikon.",
                 "", "fish soybeans gluten"),
                ("Karaage", "880", "Soy and ginger fried chicken, Japanese mayonnaise.",
                 "dairy-free", "gluten soybeans eggs"),
                ("Potato salad", "580", "Japanese style, with cucumber and egg.", "vegetarian", "eggs mustard"),
                ("Hiyayakko", "480", "Chilled silken tofu, ginger, spring onion, bonito flakes, soy sauce.",
                 "", "soybeans gluten fish"),
            ]),
            ("Yakitori (two skewers)", [
                ("Negima", "380", "Chicken thigh and leek, with tare sauce or salt.",
                 "dairy-free", "gluten soybeans"),
                ("Tsukune", "420", "Chicken meatball with an egg yolk dip.", "", "gluten soybeans eggs"),
                ("Kawa", "350", "Crispy chicken skin.", "dairy-free", "gluten soybeans"),
                ("Shiitake", "350", "Shiitake mushrooms with sea salt.", "vegan gluten-free", ""),
                ("Wagyu skewer", "1200", "Kagoshima wagyu with fresh wasabi.", "gluten-free dairy-free", ""),
            ]),
            ("Grill and fryer", [
                ("Saba shioyaki", "980", "Salt-grilled mackerel with grated daikon.", "gluten-free", "fish"),
                ("Ika geso karaage", "780", "Fried squid tentacles, lemon.", "", "molluscs gluten"),
                ("Ebi tempura", "1100", "Three prawns with tentsuyu dipping sauce.",
                 "", "crustaceans gluten eggs fish soybeans"),
            ]),
            ("Rice and noodles", [
                ("Yaki onigiri", "420", "Grilled rice ball brushed with soy sauce.", "vegan", "gluten soybeans"),
                ("Ochazuke", "650", "Rice in green tea broth with salmon and nori.", "", "fish gluten soybeans"),
                ("Yakisoba", "880", "Stir-fried noodles with pork and cabbage.", "", "gluten soybeans"),
            ]),
            ("Sweets", [
                ("Matcha ice cream", "480", "", "vegetarian gluten-free", "milk eggs"),
                ("Black sesame pudding", "550", "Set with agar.", "vegetarian gluten-free", "milk sesame"),
            ]),
        ],
        "sold_out": ["Wagyu skewer"],
        "allergens_unconfirmed": ["Ochazuke", "Yakisoba"],
    },
    {
        "slug": "bistrot-des-halles",
        "name": "Bistrot des Halles",
        "cuisine": "French bistro",
        "description": "Cuisine de bistrot parisienne près des Halles : terrines, steak frites et vins nature.",
        "street_address": "18 rue Montorgueil",
        "city": "Paris",
        "postal_code": "75002",
        "country": "FR",
        "phone": "+33199001234",
        "time_zone": "Europe/Paris",
        "language": "fr-FR",
        "currency": "EUR",
        "greeting": "Bonjour et bienvenue au Bistrot des Halles ! Comment puis-je vous aider ?",
        "agent_instructions": (
            "Le soir, la réservation est conseillée. "
            "Les chiens sont acceptés en terrasse."
        ),
        "tts_voice": "coral",
        "turn_taking": "balanced",
        "hours": [
            ((TUE, WED, THU, FRI, SAT), "12:00", "14:30", "Déjeuner"),
            ((TUE, WED, THU, FRI, SAT), "19:00", "23:00", "Dîner"),
        ],
        "special_days": [
            {"in_days": 4, "note": "Fermeture exceptionnelle pour inventaire"},
            {"in_days": 11, "opens": "19:00", "closes": "01:00", "note": "Soirée dégustation, ouvert tard"},
        ],
        "menu": [
            ("Entrées", [
                ("Œuf mayonnaise", "6.50", "Œufs bio, mayonnaise maison à la moutarde de Dijon.",
                 "vegetarian gluten-free dairy-free", "eggs mustard"),
                ("Terrine de campagne", "9.00", "Cornichons, pain de campagne.", "", "gluten eggs sulphites"),
                ("Soupe à l'oignon gratinée", "9.50", "Bouillon de bœuf, croûton, comté.",
                 "", "gluten milk celery sulphites"),
                ("Poireaux vinaigrette", "8.00", "", "vegan gluten-free", "mustard sulphites"),
                ("Six escargots de Bourgogne", "12.00", "Beurre persillé.", "gluten-free", "molluscs milk"),
            ]),
            ("Plats", [
                ("Steak frites", "24.00", "Bavette, sauce au poivre, frites maison.", "", "milk"),
                ("Confit de canard", "22.00", "Pommes sarladaises, salade frisée.",
                 "gluten-free dairy-free", "mustard"),
                ("Bœuf bourguignon", "23.00", "Mijoté au vin rouge, purée.", "", "milk celery sulphites gluten"),
                ("Sole meunière", "34.00", "Beurre noisette, pommes vapeur, selon arrivage.",
                 "", "fish milk gluten"),
                ("Risotto aux cèpes", "19.00", "Parmesan, huile de noisette.",
                 "vegetarian gluten-free", "milk celery sulphites nuts"),
                ("Ratatouille niçoise", "17.00", "Riz de Camargue.", "vegan gluten-free dairy-free", ""),
            ]),
            ("Fromages et desserts", [
                ("Assiette de fromages affinés", "12.00", "Trois fromages, noix, pain aux céréales.",
                 "", "milk gluten nuts"),
                ("Crème brûlée", "8.00", "", "vegetarian gluten-free", "milk eggs"),
                ("Mousse au chocolat", "8.00", "", "vegetarian gluten-free", "eggs milk soybeans"),
                ("Tarte Tatin", "9.00", "Crème crue.", "vegetarian", "gluten milk eggs"),
                ("Profiteroles", "10.00", "Glace vanille, sauce chocolat, amandes grillées.",
                 "vegetarian", "gluten milk eggs nuts"),
            ]),
        ],
        "sold_out": ["Sole meunière"],
        "allergens_unconfirmed": ["Profiteroles"],
        "reservations": {
            "settings": {"max_party_size": 6, "booking_notice_minutes": 120, "last_seating_minutes": 45},
            "tables": [
                ("Table 1", 1, 2), ("Table 2", 1, 2), ("Table 3", 1, 2), ("Table 4", 2, 4), ("Table 5", 2, 4),
                ("Table 6", 4, 6),
            ],
            "bookings": [
                (2, "20:00", 2, "Camille Martin", "+33199001256", "Anniversaire de mariage."),
                (3, "19:30", 4, "Julien Bernard", "+33199001278", "Une personne allergique aux fruits à coque."),
                (5, "12:30", 2, "Sophie Laurent", "+33199001290", ""),
            ],
        },
    },
    {
        "slug": "taqueria-la-paloma",
        "name": "Taquería La Paloma",
        "cuisine": "Mexican taquería",
        "description": "Tacos on fresh nixtamal tortillas, salsas made every morning, open late at weekends.",
        "street_address": "2417 Sunset Boulevard",
        "city": "Los Angeles",
        "postal_code": "90026",
        "country": "US",
        "phone": "+13235550142",
        "time_zone": "America/Los_Angeles",
        "language": "en-US",
        "currency": "USD",
        "greeting": "",
        "agent_instructions": (
            "Counter service only; we do not take reservations. Salsa roja is medium, salsa macha is hot. "
            "Corn tortillas are made in house; flour tortillas are available on request."
        ),
        "tts_voice": "",
        "turn_taking": "quick",
        "hours": [
            ((SUN, MON, TUE, WED, THU), "11:00", "22:00", ""),
            ((FRI, SAT), "11:00", "02:00", "Late night"),
        ],
        "special_days": [],
        "menu": [
            ("Tacos", [
                ("Al pastor", "4.25", "Marinated pork, pineapple, onion, cilantro, corn tortilla.",
                 "gluten-free dairy-free", ""),
                ("Carne asada", "4.75", "Grilled steak, guacamole, corn tortilla.", "gluten-free dairy-free", ""),
                ("Pescado", "5.25", "Beer-battered rockfish, cabbage, chipotle crema.", "", "fish gluten eggs milk"),
                ("Camarón", "5.50", "Grilled shrimp, mango salsa.", "gluten-free dairy-free", "crustaceans"),
                ("Hongos", "4.25", "Roasted mushrooms, poblano, salsa macha.",
                 "vegan gluten-free", "peanuts sesame"),
                ("Birria", "5.50", "Braised beef with melted cheese and consommé for dipping.",
                 "gluten-free", "milk celery"),
            ]),
            ("Burritos and plates", [
                ("Carnitas burrito", "13.50", "Flour tortilla, rice, beans, cheese, salsa roja.",
                 "", "gluten milk"),
                ("Veggie burrito", "12.00", "Flour tortilla, grilled vegetables, rice, beans, cheese.",
                 "vegetarian", "gluten milk"),
                ("Enchiladas verdes", "15.00", "Chicken, salsa verde, crema, queso fresco.",
                 "gluten-free", "milk"),
                ("Chile relleno", "14.50", "Cheese-stuffed poblano in egg batter, ranchero sauce.",
                 "vegetarian", "eggs milk gluten"),
            ]),
            ("Sides", [
                ("Chips and guacamole", "7.50", "", "vegan gluten-free", ""),
                ("Elote", "5.00", "Street corn, mayo, cotija, chile.", "vegetarian gluten-free", "eggs milk"),
                ("Frijoles de la olla", "3.50", "", "vegan gluten-free", ""),
            ]),
            ("Drinks and dessert", [
                ("Horchata", "4.00", "Rice and almond, cinnamon.", "vegan gluten-free", "nuts"),
                ("Agua de jamaica", "3.50", "Hibiscus.", "vegan gluten-free", ""),
                ("Churros", "6.00", "Cinnamon sugar, cajeta.", "vegetarian", "gluten eggs milk"),
            ]),
        ],
        "sold_out": ["Birria"],
        "allergens_unconfirmed": ["Chile relleno"],
        "takeout": {"pickup_lead_minutes": 15, "orders_per_slot": 8, "last_order_minutes": 15},
        "choices": {
            "Al pastor": [SALSA, TACO_EXTRAS],
            "Carne asada": [SALSA, TACO_EXTRAS],
            "Pescado": [SALSA, TACO_EXTRAS],
            "Camarón": [SALSA, TACO_EXTRAS],
            "Hongos": [SALSA, TACO_EXTRAS],
            "Carnitas burrito": [SALSA, BURRITO_EXTRAS],
            "Veggie burrito": [SALSA, BURRITO_EXTRAS],
            "Horchata": [DRINK_SIZE],
            "Agua de jamaica": [DRINK_SIZE],
        },
        "choices_sold_out": ["Salsa verde"],
    },
    {
        "slug": "harbour-dumpling-house",
        "name": "Harbour Dumpling House",
        "cuisine": "Cantonese yum cha",
        "description": "Yum cha trolleys at lunch, dumplings and wok dishes at dinner, in the heart of Haymarket.",
        "street_address": "88 Dixon Street",
        "city": "Sydney",
        "postal_code": "2000",
        "country": "AU",
        "phone": "+61255501234",
        "time_zone": "Australia/Sydney",
        "language": "en-AU",
        "currency": "AUD",
        "greeting": "G'day and welcome to Harbour Dumpling House. How can I help?",
        "agent_instructions": (
            "Yum cha trolleys run at lunch only. BYO wine, 5 dollars corkage per bottle. "
            "Bookings for groups of 6 or more."
        ),
        "tts_voice": "alloy",
        "turn_taking": "patient",
        "hours": [
            ((MON, WED, THU, FRI, SAT, SUN), "11:00", "15:00", "Yum cha"),
            ((MON, WED, THU, FRI, SAT, SUN), "17:00", "21:30", "Dinner"),
        ],
        "special_days": [
            {"on": "12-25", "note": "Christmas Day"},
            {"in_days": 7, "opens": "11:00", "closes": "15:00", "note": "Lunch only, private dinner"},
        ],
        "menu": [
            ("Dumplings", [
                ("Har gow (4)", "12.80", "Prawn dumplings in a crystal wrapper.",
                 "dairy-free", "crustaceans gluten sesame"),
                ("Siu mai (4)", "11.80", "Pork and prawn, flying fish roe.",
                 "dairy-free", "crustaceans fish gluten soybeans"),
                ("Xiao long bao (6)", "14.80", "Pork soup dumplings, black vinegar.",
                 "dairy-free", "gluten soybeans sesame"),
                ("Vegetable dumplings (4)", "11.00", "Shiitake, bok choy, glass noodles.",
                 "vegan", "gluten soybeans sesame"),
                ("Prawn and chive potstickers (4)", "13.50", "Pan-fried.",
                 "dairy-free", "crustaceans gluten soybeans sesame"),
            ]),
            ("Buns and rolls", [
                ("BBQ pork buns (3)", "10.80", "Steamed, char siu filling.", "", "gluten soybeans sesame milk"),
                ("Custard buns (3)", "9.80", "Salted egg yolk custard.", "vegetarian", "gluten eggs milk"),
                ("Spring rolls (3)", "9.00", "Cabbage, carrot, mushroom.", "vegan", "gluten soybeans"),
            ]),
            ("Noodles, rice and wok", [
                ("Dan dan noodles", "19.80", "Spicy pork, Sichuan pepper, peanuts.",
                 "dairy-free", "gluten peanuts soybeans sesame"),
                ("Beef chow fun", "22.00", "Wide rice noodles, bean sprouts, spring onion.",
                 "dairy-free", "soybeans gluten"),
                ("Egg fried rice", "14.00", "", "vegetarian dairy-free", "eggs soybeans"),
                ("Salt and pepper squid", "21.00", "", "dairy-free", "molluscs gluten"),
                ("Steamed barramundi", "36.00", "Whole fish, ginger, shallot, soy.",
                 "dairy-free", "fish soybeans gluten"),
            ]),
            ("Greens", [
                ("Gai lan with oyster sauce", "14.00", "", "dairy-free", "molluscs soybeans gluten"),
                ("Mapo tofu", "18.00", "Vegan, with shiitake instead of pork.", "vegan", "soybeans gluten sesame"),
            ]),
            ("Desserts", [
                ("Mango pudding", "8.50", "", "vegetarian gluten-free", "milk"),
                ("Egg tarts (2)", "7.00", "", "vegetarian", "gluten eggs milk"),
            ]),
        ],
        "sold_out": ["Salt and pepper squid"],
        "allergens_unconfirmed": ["Steamed barramundi"],
        "takeout": {"pickup_lead_minutes": 20, "orders_per_slot": 6, "last_order_minutes": 15},
        "choices": {
            "Dan dan noodles": [
                SPICE, ("Extras", 0, 2, [("Extra pork", "4.00"), ("Extra peanuts", "1.00"), ("Bok choy", "3.00")]),
            ],
            "Egg fried rice": [("Size", 1, 1, [("Small", "-4.00"), ("Regular", "0"), ("Large", "5.00")])],
            "Mapo tofu": [SPICE, ("Rice", 0, 1, [("Steamed rice", "3.00")])],
        },
        "choices_sold_out": ["Extra pork"],
    },
]

# The phone lines load_demo gives two of the restaurants: slug -> [(number callers dial, transfer number or "")].
# Fictional numbers: the US 555-01xx range and Ofcom's 020 7946 0xxx.
PHONE_LINES = {
    "taqueria-la-paloma": [("+15105550100", "+15105550199")],
    "the-copper-kettle": [("+442079460018", "")],
}

# House facts (restaurants.HouseFact) load_demo gives each restaurant: slug -> [(question as diners ask it, answer)],
# in the restaurant's language. The Copper Kettle has none about parking: diners' parking questions wait in its
# queue (UNANSWERED), for staff to answer once.
HOUSE_FACTS = {
    "the-copper-kettle": [
        ("Can I bring my dog?", "Dogs are welcome in the bar, not in the dining room. There are water bowls and "
         "biscuits behind the bar."),
        ("Do you have high chairs?", "Yes, we have four high chairs. Mention one when you book if you can."),
        ("Is it wheelchair accessible?", "Yes: the entrance on Wharf Road is step-free, and there is an accessible "
         "toilet on the ground floor."),
    ],
    "zum-goldenen-hirsch": [
        ("Gibt es Parkplätze?", "Ja, zwölf Parkplätze im Hof, Einfahrt über die Seitenstraße. Für Gäste kostenlos."),
        ("Darf ich meinen Hund mitbringen?", "Hunde sind im Biergarten willkommen, im Gastraum leider nicht."),
        ("Haben Sie Kinderhochstühle?", "Ja, wir haben drei Kinderhochstühle."),
        ("Ist das Restaurant barrierefrei?", "Der Gastraum ist ebenerdig erreichbar. Die Toiletten liegen im "
         "Untergeschoss und sind nur über eine Treppe erreichbar."),
    ],
    "izakaya-koyo": [
        ("Is there parking?", "We have no parking. Coin parking lots are two minutes' walk away; the nearest "
         "station is a five-minute walk."),
        ("Can I bring my dog?", "Sorry, no animals inside, except assistance dogs."),
        ("Is it wheelchair accessible?", "No: the entrance has three steps and the counter seats are high."),
    ],
    "bistrot-des-halles": [
        ("Y a-t-il un parking ?", "Pas de parking au bistrot. Le parking public Saint-Eustache est à deux minutes "
         "à pied."),
        ("Les chiens sont-ils acceptés ?", "Les chiens sont acceptés en terrasse, pas en salle."),
        ("Avez-vous des chaises hautes ?", "Oui, nous avons deux chaises hautes pour les enfants."),
        ("Le bistrot est-il accessible en fauteuil roulant ?", "La salle est de plain-pied, mais les toilettes sont "
         "à l'étage."),
    ],
    "taqueria-la-paloma": [
        ("Is there parking?", "Yes, free parking in the lot behind the taquería, entrance on the side street."),
        ("Can I bring my dog?", "Dogs on a leash are welcome on the patio."),
        ("Do you have high chairs?", "Yes, we have high chairs and booster seats."),
        ("Is it wheelchair accessible?", "Yes: step-free entrance and an accessible restroom."),
    ],
    "harbour-dumpling-house": [
        ("Is there parking?", "There is no parking of our own. The Harbour Street car park is across the road."),
        ("Do you have high chairs?", "Yes, we have high chairs. Ask the staff when you arrive."),
        ("Is it wheelchair accessible?", "Yes: a ramp at the entrance, and a lift to the upstairs dining room."),
    ],
}

# Questions the agent could not answer, waiting in each restaurant's queue: slug -> [(the diner's wording, how many
# times it was asked)], several wordings of one question so that the queue groups them. The Copper Kettle's parking
# question was asked 14 times in 5 wordings.
UNANSWERED = {
    "the-copper-kettle": [
        ("Is there parking?", 6), ("Where can I park?", 3), ("Do you have a car park?", 2),
        ("Is there parking nearby?", 2), ("Any parking near the pub?", 1),
        ("Do you show the football?", 2), ("Are you showing the football on Saturday?", 1),
        ("Can I bring my own birthday cake?", 1),
    ],
    "zum-goldenen-hirsch": [("Kann man mit Karte zahlen?", 3), ("Mit Karte zahlen möglich?", 1)],
    "izakaya-koyo": [("Do you have an English menu?", 2), ("Is there an English menu?", 2), ("Can I smoke?", 1)],
    "bistrot-des-halles": [("Acceptez-vous les tickets restaurant ?", 2), ("Tickets restaurant acceptés ?", 1)],
    "taqueria-la-paloma": [("Do you cater parties?", 2), ("Do you do catering for parties?", 1)],
    "harbour-dumpling-house": [("Is it BYO on Sundays?", 2), ("BYO on Sunday?", 1), ("Do you have gift cards?", 1)],
}
