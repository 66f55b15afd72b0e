"""What the demo distributor sells: packaged-food item templates with brands, packs and MRPs.

Each template expands into one product per (brand, pack); the generator picks as many as asked
for, spread over all categories. ``rate`` is how many order packs a medium store takes per week
when it stocks the item; ``pack`` is the order multiple (loose units per outer) and ``case`` the
carton size, both in the product's unit (pieces).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ItemTemplate:
    category: str
    item: str
    brands: tuple[str, ...]
    packs: tuple[tuple[str, float], ...]  # (pack label, MRP in INR)
    pack: int
    case: int
    rate: float
    variants: tuple[str, ...] = ("",)  # flavours; each becomes its own product


STAPLES = "Staples"
OILS = "Edible Oils & Ghee"
SPICES = "Spices & Masala"
SNACKS = "Snacks & Namkeen"
BISCUITS = "Biscuits"
BEVERAGES = "Beverages"
INSTANT = "Instant Food"
SWEETS = "Sweets & Dry Fruits"
DAIRY = "Dairy"
PERSONAL = "Personal Care"
HOUSEHOLD = "Household"

CATEGORIES: tuple[str, ...] = (
    STAPLES,
    OILS,
    SPICES,
    SNACKS,
    BISCUITS,
    BEVERAGES,
    INSTANT,
    SWEETS,
    DAIRY,
    PERSONAL,
    HOUSEHOLD,
)

SKU_PREFIX: dict[str, str] = {
    STAPLES: "STP",
    OILS: "OIL",
    SPICES: "SPC",
    SNACKS: "SNK",
    BISCUITS: "BIS",
    BEVERAGES: "BEV",
    INSTANT: "INS",
    SWEETS: "SWT",
    DAIRY: "DRY",
    PERSONAL: "PER",
    HOUSEHOLD: "HHD",
}

T = ItemTemplate
# fmt: off
TEMPLATES: tuple[ItemTemplate, ...] = (
    # Staples
    T(STAPLES, "Whole Wheat Atta", ("Aashirvaad", "Pillsbury", "Fortune"), (("5 kg", 265), ("10 kg", 510)), 1, 4, 3.0),
    T(STAPLES, "Basmati Rice", ("India Gate", "Daawat", "Kohinoor"), (("1 kg", 145), ("5 kg", 650)), 1, 10, 1.6),
    T(STAPLES, "Kolam Rice", ("Mangalm Select", "Lalqilla"), (("5 kg", 360), ("10 kg", 700)), 1, 4, 1.8),
    T(STAPLES, "Toor Dal", ("Tata Sampann", "Mangalm Select", "Rajdhani"), (("500 g", 92), ("1 kg", 178)), 2, 20, 3.0),
    T(STAPLES, "Moong Dal", ("Tata Sampann", "Mangalm Select"), (("500 g", 84), ("1 kg", 162)), 2, 20, 1.6),
    T(STAPLES, "Chana Dal", ("Tata Sampann", "Rajdhani"), (("500 g", 58), ("1 kg", 110)), 2, 20, 1.5),
    T(STAPLES, "Besan", ("Rajdhani", "Tata Sampann", "Fortune"), (("500 g", 62), ("1 kg", 118)), 2, 20, 1.8),
    T(STAPLES, "Sugar", ("Madhur", "Mangalm Select"), (("1 kg", 52), ("5 kg", 250)), 2, 20, 3.5),
    T(STAPLES, "Iodised Salt", ("Tata", "Aashirvaad", "Catch"), (("1 kg", 28),), 6, 30, 3.0),
    T(STAPLES, "Poha", ("Mangalm Select", "Rajdhani"), (("500 g", 42), ("1 kg", 80)), 2, 20, 1.8),
    T(STAPLES, "Rava / Sooji", ("Rajdhani", "Mangalm Select"), (("500 g", 38), ("1 kg", 72)), 2, 20, 1.4),
    T(STAPLES, "Jaggery", ("Mangalm Select", "Kolhapuri Gold"), (("500 g", 60), ("1 kg", 115)), 2, 20, 1.2),
    T(STAPLES, "Rice Flour", ("Mangalm Select", "Aashirvaad"), (("500 g", 40),), 2, 24, 0.8),
    # Edible oils and ghee
    T(OILS, "Refined Sunflower Oil", ("Fortune", "Saffola", "Gemini"), (("1 L", 165), ("5 L", 790)), 1, 12, 2.4),
    T(OILS, "Groundnut Oil", ("Fortune", "Tirupati", "Dhara"), (("1 L", 210), ("5 L", 1010)), 1, 12, 1.6),
    T(OILS, "Kachi Ghani Mustard Oil", ("Fortune", "Dhara"), (("1 L", 185),), 1, 12, 0.9),
    T(OILS, "Cow Ghee", ("Amul", "Gowardhan", "Nandini"), (("500 ml", 320), ("1 L", 630)), 1, 12, 1.2),
    T(OILS, "Coconut Oil", ("Parachute", "KLF Coconad"), (("500 ml", 190), ("1 L", 360)), 1, 12, 1.0),
    # Spices
    T(SPICES, "Turmeric Powder", ("Everest", "MDH", "Catch"), (("100 g", 34), ("200 g", 66)), 5, 60, 1.8),
    T(SPICES, "Kashmiri Chilli Powder", ("Everest", "MDH", "Catch"), (("100 g", 72), ("200 g", 140)), 5, 60, 1.6),
    T(SPICES, "Garam Masala", ("Everest", "MDH", "Badshah"), (("50 g", 48), ("100 g", 92)), 5, 60, 1.4),
    T(SPICES, "Goda Masala", ("Pravin", "Chitale"), (("100 g", 65),), 5, 60, 0.9),
    T(SPICES, "Kitchen King Masala", ("MDH", "Everest"), (("100 g", 84),), 5, 60, 0.9),
    T(SPICES, "Pav Bhaji Masala", ("Everest", "Badshah"), (("100 g", 78),), 5, 60, 1.0),
    T(SPICES, "Jeera (Cumin)", ("Catch", "Mangalm Select"), (("100 g", 68), ("200 g", 130)), 5, 60, 1.0),
    T(SPICES, "Hing (Asafoetida)", ("LG", "Everest"), (("50 g", 110),), 5, 60, 0.7),
    # Snacks and namkeen
    T(SNACKS, "Aloo Bhujia", ("Haldiram's", "Bikaji", "Balaji"), (("200 g", 55), ("400 g", 105)), 6, 48, 2.2),
    T(SNACKS, "Khatta Meetha", ("Haldiram's", "Bikaji"), (("200 g", 55),), 6, 48, 1.2),
    T(SNACKS, "Chakli", ("Chitale", "Haldiram's"), (("200 g", 70),), 6, 48, 1.0),
    T(SNACKS, "Potato Chips", ("Lay's", "Balaji", "Bingo"), (("52 g", 20),), 12, 96, 3.0, ("Classic Salted", "Magic Masala", "Cream & Onion", "Tomato", "Chilli Lemon")),
    T(SNACKS, "Masala Wafers", ("Balaji", "Lay's"), (("52 g", 20),), 12, 96, 2.4),
    T(SNACKS, "Kurkure Masala Munch", ("Kurkure",), (("90 g", 20),), 12, 96, 2.6),
    T(SNACKS, "Banana Chips", ("Mangalm Select", "Balaji"), (("200 g", 80),), 6, 48, 0.9),
    # Biscuits
    T(BISCUITS, "Glucose Biscuits", ("Parle-G", "Britannia Tiger", "Sunfeast"), (("250 g", 25), ("800 g", 80)), 12, 96, 3.2),
    T(BISCUITS, "Marie Biscuits", ("Britannia Marie Gold", "McVitie's"), (("250 g", 40),), 12, 96, 1.8),
    T(BISCUITS, "Cream Biscuits", ("Britannia Bourbon", "Parle Hide & Seek", "Sunfeast Dark Fantasy"), (("120 g", 35),), 12, 96, 2.0),
    T(BISCUITS, "Salted Crackers", ("Parle Monaco", "Britannia 50-50"), (("150 g", 30),), 12, 96, 1.6),
    T(BISCUITS, "Rusk", ("Britannia", "Parle"), (("300 g", 50),), 6, 48, 1.5),
    # Beverages
    T(BEVERAGES, "Tea Leaves", ("Tata Tea Premium", "Red Label", "Wagh Bakri", "Taj Mahal"), (("250 g", 140), ("500 g", 275)), 3, 36, 2.6),
    T(BEVERAGES, "Instant Coffee", ("Nescafe Classic", "Bru", "Continental"), (("50 g", 175), ("100 g", 340)), 3, 36, 1.0),
    T(BEVERAGES, "Soft Drink", ("Thums Up", "Sprite", "Limca", "Maaza", "Coca-Cola", "Fanta"), (("600 ml", 40), ("2 L", 99)), 6, 24, 2.4),
    T(BEVERAGES, "Fruit Drink", ("Frooti", "Real", "Tropicana", "Slice", "Paper Boat"), (("1 L", 110),), 6, 12, 1.3),
    T(BEVERAGES, "Health Drink", ("Bournvita", "Horlicks", "Boost", "Complan"), (("500 g", 245),), 3, 24, 1.0),
    T(BEVERAGES, "Rose Syrup", ("Rooh Afza", "Mapro"), (("750 ml", 165),), 3, 12, 0.6),
    # Instant food
    T(INSTANT, "Noodles", ("Maggi", "Yippee", "Top Ramen"), (("70 g", 14), ("280 g", 56)), 12, 96, 3.0, ("Masala", "Atta Masala", "Chatpata")),
    T(INSTANT, "Ready Mix Upma", ("MTR", "Gits"), (("200 g", 70),), 6, 48, 0.8),
    T(INSTANT, "Gulab Jamun Mix", ("Gits", "MTR"), (("200 g", 110),), 6, 48, 0.8),
    T(INSTANT, "Tomato Ketchup", ("Kissan", "Maggi"), (("500 g", 120), ("1 kg", 199)), 3, 24, 1.4, ("Tomato", "Hot & Sweet")),
    T(INSTANT, "Vermicelli", ("Bambino", "MTR"), (("400 g", 55),), 6, 48, 1.0),
    T(INSTANT, "Corn Flakes", ("Kellogg's", "Bagrry's"), (("475 g", 195),), 3, 24, 0.7),
    # Sweets and dry fruits
    T(SWEETS, "Cashew W320", ("Mangalm Select", "Happilo"), (("250 g", 290), ("500 g", 560)), 2, 20, 1.0),
    T(SWEETS, "Almonds", ("Mangalm Select", "Happilo"), (("250 g", 260),), 2, 20, 0.9),
    T(SWEETS, "Raisins", ("Mangalm Select",), (("200 g", 110),), 2, 20, 0.7),
    T(SWEETS, "Soan Papdi", ("Haldiram's", "Bikano"), (("500 g", 150),), 4, 24, 0.6),
    T(SWEETS, "Kaju Katli Gift Box", ("Haldiram's", "Chitale"), (("400 g", 420),), 2, 12, 0.3),
    T(SWEETS, "Dates (Khajur)", ("Lion", "Mangalm Select"), (("500 g", 160),), 2, 20, 0.6),
    T(SWEETS, "Desiccated Coconut", ("Mangalm Select",), (("200 g", 75),), 4, 40, 0.6),
    # Dairy
    T(DAIRY, "Milk Powder", ("Amul Spray", "Nestle Everyday"), (("500 g", 245),), 2, 24, 1.0),
    T(DAIRY, "Processed Cheese Slices", ("Amul", "Britannia"), (("200 g", 150),), 3, 24, 0.7),
    T(DAIRY, "Condensed Milk", ("Amul Mithai Mate", "Milkmaid"), (("400 g", 145),), 3, 24, 0.6),
    T(DAIRY, "Paneer", ("Amul", "Gowardhan"), (("200 g", 95),), 4, 20, 0.8),
    # Personal care
    T(PERSONAL, "Bath Soap", ("Lux", "Santoor", "Dettol", "Lifebuoy", "Medimix", "Cinthol", "Pears", "Godrej No.1"), (("4 x 100 g", 180),), 3, 36, 2.2),
    T(PERSONAL, "Toothpaste", ("Colgate", "Pepsodent", "Dabur Red", "Close-Up", "Sensodyne"), (("150 g", 105),), 6, 72, 2.0),
    T(PERSONAL, "Shampoo", ("Clinic Plus", "Head & Shoulders", "Sunsilk"), (("180 ml", 165), ("8 ml sachet strip", 30)), 6, 48, 1.4),
    T(PERSONAL, "Hair Oil", ("Parachute Advansed", "Dabur Amla", "Bajaj Almond Drops"), (("200 ml", 120),), 6, 48, 1.3),
    T(PERSONAL, "Talcum Powder", ("Ponds", "Cinthol"), (("300 g", 210),), 3, 36, 0.6),
    # Household
    T(HOUSEHOLD, "Detergent Powder", ("Surf Excel", "Tide", "Wheel", "Ghadi", "Rin", "Nirma"), (("1 kg", 135), ("500 g", 70)), 4, 24, 2.2),
    T(HOUSEHOLD, "Dishwash Bar", ("Vim", "Exo"), (("3 x 200 g", 60),), 6, 48, 2.0),
    T(HOUSEHOLD, "Floor Cleaner", ("Lizol", "Harpic"), (("500 ml", 115),), 3, 24, 1.0),
    T(HOUSEHOLD, "Agarbatti", ("Cycle Pure", "Zed Black"), (("100 g", 65),), 6, 72, 1.2),
    T(HOUSEHOLD, "Matchbox", ("Ship", "Homelites"), (("10 x 50 sticks", 20),), 10, 100, 1.0),
    # More of the range (second tier items)
    T(STAPLES, "Urad Dal", ("Tata Sampann", "Mangalm Select"), (("500 g", 88), ("1 kg", 170)), 2, 20, 1.0),
    T(STAPLES, "Masoor Dal", ("Tata Sampann", "Rajdhani"), (("500 g", 64),), 2, 20, 0.8),
    T(STAPLES, "Kabuli Chana", ("Mangalm Select", "Rajdhani"), (("500 g", 80),), 2, 20, 0.8),
    T(STAPLES, "Sabudana", ("Mangalm Select", "Rajdhani"), (("500 g", 55),), 2, 20, 0.9),
    T(STAPLES, "Maida", ("Rajdhani", "Pillsbury"), (("500 g", 32), ("1 kg", 60)), 2, 20, 1.1),
    T(STAPLES, "Jowar Flour", ("Mangalm Select", "Aashirvaad"), (("1 kg", 70),), 2, 20, 0.7),
    T(STAPLES, "Sona Masoori Rice", ("Mangalm Select", "India Gate"), (("5 kg", 390),), 1, 4, 1.0),
    T(SPICES, "Coriander Powder", ("Everest", "MDH", "Catch"), (("100 g", 32), ("200 g", 62)), 5, 60, 1.3),
    T(SPICES, "Chhole Masala", ("MDH", "Everest"), (("100 g", 80),), 5, 60, 0.8),
    T(SPICES, "Sambar Masala", ("MTR", "Everest"), (("100 g", 70),), 5, 60, 0.8),
    T(SPICES, "Malvani Masala", ("Pravin", "Suhana"), (("100 g", 60),), 5, 60, 0.6),
    T(SPICES, "Mustard Seeds", ("Catch", "Mangalm Select"), (("100 g", 25),), 5, 60, 0.9),
    T(SPICES, "Black Pepper", ("Catch", "Everest"), (("50 g", 75),), 5, 60, 0.6),
    T(SNACKS, "Namkeen", ("Haldiram's", "Bikaji", "Balaji"), (("200 g", 55),), 6, 48, 1.2, ("Moong Dal", "Navratan Mix", "Ratlami Sev", "Farsan Mix", "Chana Jor Garam")),
    T(SNACKS, "Bhavnagari Gathiya", ("Balaji", "Gopal"), (("250 g", 60),), 6, 48, 0.9),
    T(SNACKS, "Roasted Peanuts", ("Haldiram's", "Mangalm Select"), (("200 g", 50),), 6, 48, 0.8),
    T(BISCUITS, "Cookies", ("Sunfeast", "Good Day", "Unibic"), (("200 g", 40),), 12, 96, 1.4, ("Butter", "Cashew", "Choco Chip")),
    T(BISCUITS, "Nankhatai", ("Britannia", "Mangalm Bakes"), (("200 g", 45),), 6, 48, 0.6),
    T(BEVERAGES, "Green Tea", ("Tetley", "Lipton"), (("25 bags", 160),), 3, 36, 0.5),
    T(BEVERAGES, "Packaged Drinking Water", ("Bisleri", "Kinley", "Aquafina"), (("1 L", 20), ("500 ml", 10)), 12, 24, 2.0),
    T(BEVERAGES, "Energy Drink", ("Red Bull", "Sting"), (("250 ml", 125),), 6, 24, 0.5),
    T(BEVERAGES, "Lassi", ("Amul", "Mother Dairy"), (("200 ml", 25),), 6, 30, 0.8),
    T(INSTANT, "Pasta", ("Sunfeast", "Maggi"), (("200 g", 50),), 6, 48, 0.6, ("Penne Masala", "Macaroni")),
    T(INSTANT, "Instant Soup", ("Knorr", "Maggi"), (("4 servings", 60),), 6, 48, 0.6, ("Tomato", "Sweet Corn")),
    T(INSTANT, "Mango Pickle", ("Mother's Recipe", "Pravin", "Bedekar"), (("500 g", 150),), 3, 24, 0.8),
    T(INSTANT, "Papad", ("Lijjat", "Ganesh"), (("200 g", 60),), 6, 48, 1.0, ("Udad", "Punjabi Masala")),
    T(INSTANT, "Mixed Fruit Jam", ("Kissan", "Mapro"), (("500 g", 175),), 3, 24, 0.6),
    T(SWEETS, "Pista", ("Mangalm Select", "Happilo"), (("200 g", 330),), 2, 20, 0.3),
    T(SWEETS, "Mixed Dry Fruits", ("Happilo", "Mangalm Select"), (("500 g", 520),), 2, 20, 0.3),
    T(SWEETS, "Rasgulla Tin", ("Haldiram's", "Bikano"), (("1 kg", 240),), 2, 12, 0.4),
    T(SWEETS, "Peanut Chikki", ("Lonavala Maganlal", "Mangalm Select"), (("200 g", 70),), 4, 40, 0.6),
    T(DAIRY, "Butter", ("Amul", "Gowardhan"), (("100 g", 58), ("500 g", 285)), 4, 40, 1.0),
    T(DAIRY, "Fresh Cream", ("Amul", "Nestle"), (("200 ml", 70),), 4, 32, 0.5),
    T(PERSONAL, "Face Wash", ("Himalaya", "Ponds", "Garnier"), (("100 ml", 175),), 3, 36, 0.6),
    T(PERSONAL, "Hand Wash", ("Dettol", "Lifebuoy", "Savlon"), (("200 ml", 99),), 3, 36, 0.8),
    T(PERSONAL, "Sanitary Pads", ("Whisper", "Stayfree"), (("XL 8 pads", 90),), 6, 48, 1.0),
    T(PERSONAL, "Shaving Cream", ("Gillette", "Old Spice"), (("70 g", 75),), 6, 48, 0.5),
    T(PERSONAL, "Deodorant", ("Fogg", "Wild Stone", "Nivea"), (("150 ml", 240),), 3, 36, 0.5),
    T(HOUSEHOLD, "Toilet Cleaner", ("Harpic", "Domex"), (("500 ml", 99),), 3, 24, 1.0),
    T(HOUSEHOLD, "Mosquito Coil", ("Good Knight", "Mortein"), (("10 coils", 45),), 6, 60, 1.0),
    T(HOUSEHOLD, "Liquid Detergent", ("Surf Excel", "Ariel"), (("1 L", 230),), 3, 24, 0.7),
    T(HOUSEHOLD, "Garbage Bags", ("Ezee", "Presto"), (("Medium 30 pcs", 110),), 6, 48, 0.5),
    T(HOUSEHOLD, "Scrub Pad", ("Scotch-Brite", "Vim"), (("3 pcs", 50),), 6, 72, 0.9),
)

# fmt: on

# How festivals lift demand per category (multiplier at the festival's peak week; 1 = no lift)
# and how strongly each region's shoppers celebrate them (keys of places.SURNAMES).
# fmt: off
FESTIVAL_LIFT: dict[str, dict[str, float]] = {
    "Diwali": {SWEETS: 3.2, OILS: 1.9, SNACKS: 1.8, STAPLES: 1.4, BISCUITS: 1.3, DAIRY: 1.4, HOUSEHOLD: 1.5, PERSONAL: 1.3, BEVERAGES: 1.2, SPICES: 1.3, INSTANT: 1.2},
    "Ganesh Chaturthi": {SWEETS: 2.2, STAPLES: 1.4, OILS: 1.3, SNACKS: 1.3, HOUSEHOLD: 1.4, DAIRY: 1.3},
    "Holi": {BEVERAGES: 1.7, SNACKS: 1.6, SWEETS: 1.6, DAIRY: 1.3, PERSONAL: 1.2},
    "Eid al-Fitr": {SWEETS: 2.3, DAIRY: 1.7, INSTANT: 1.6, OILS: 1.3, STAPLES: 1.2, BEVERAGES: 1.3},
}
FESTIVAL_REGION_WEIGHT: dict[str, dict[str, float]] = {
    "Diwali": {"maharashtra": 1.0, "mumbai": 1.0, "gujarat": 1.15, "goa": 0.9, "karnataka": 0.85},
    "Ganesh Chaturthi": {"maharashtra": 1.0, "mumbai": 1.1, "gujarat": 0.35, "goa": 0.9, "karnataka": 0.6},
    "Holi": {"maharashtra": 0.7, "mumbai": 0.8, "gujarat": 1.0, "goa": 0.5, "karnataka": 0.3},
    "Eid al-Fitr": {"maharashtra": 0.5, "mumbai": 1.0, "gujarat": 0.5, "goa": 0.4, "karnataka": 0.6},
}
# fmt: on
# Hot months (April to early June) sell more cold drinks; monsoon sells more tea and snacks.
SUMMER_LIFT: dict[str, float] = {BEVERAGES: 1.6, DAIRY: 1.1}
MONSOON_LIFT: dict[str, float] = {BEVERAGES: 0.9, SNACKS: 1.15, INSTANT: 1.2}
