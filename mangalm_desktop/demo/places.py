"""Where the demo company's stores are: regions, cities, localities, names of people and shops.

Plain reference data, kept apart from the generator so the recipe can be read (and corrected by
someone who knows the coast) without reading any numpy. Weights are relative store counts.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class City:
    name: str
    code: str  # three letters, used in store codes (MUM-0001)
    state: str
    pin_prefix: str  # first digits of the postal (PIN) code
    weight: float
    localities: tuple[str, ...]


@dataclass(frozen=True)
class Region:
    name: str
    cities: tuple[City, ...]
    people: str  # key into SURNAMES / GIVEN_NAMES


# Regions in agent order: with five agents, region i goes to agent (i mod 5) + 1, so A01 has
# Mumbai + Thane, A02 Pune + Nashik, A03 both Gujarat regions, A04 Konkan & Goa, A05 the
# Karnataka coast. Any other agent count still gives each agent one or two whole regions.
REGIONS: tuple[Region, ...] = (
    Region(
        "Mumbai",
        (
            City(
                "Mumbai",
                "MUM",
                "Maharashtra",
                "4000",
                3.0,
                (
                    "Dadar West",
                    "Parel",
                    "Girgaon",
                    "Andheri East",
                    "Goregaon West",
                    "Malad West",
                    "Borivali West",
                    "Kurla West",
                    "Ghatkopar East",
                    "Chembur",
                    "Bandra West",
                    "Mahim",
                    "Byculla",
                    "Mulund West",
                    "Vile Parle East",
                ),
            ),
        ),
        "mumbai",
    ),
    Region(
        "Pune",
        (
            City(
                "Pune",
                "PUN",
                "Maharashtra",
                "4110",
                2.2,
                (
                    "Shivajinagar",
                    "Kothrud",
                    "Sadashiv Peth",
                    "Hadapsar",
                    "Aundh",
                    "Kondhwa",
                    "Viman Nagar",
                    "Karve Nagar",
                    "Bibwewadi",
                    "Warje",
                ),
            ),
            City(
                "Pimpri-Chinchwad",
                "PCM",
                "Maharashtra",
                "4110",
                0.9,
                ("Pimpri", "Chinchwad Gaon", "Nigdi", "Akurdi", "Bhosari", "Wakad"),
            ),
        ),
        "maharashtra",
    ),
    Region(
        "Central Gujarat",
        (
            City(
                "Ahmedabad",
                "AMD",
                "Gujarat",
                "3800",
                1.8,
                (
                    "Maninagar",
                    "Navrangpura",
                    "Satellite",
                    "Naranpura",
                    "Bapunagar",
                    "Vastrapur",
                    "Paldi",
                    "Ghatlodia",
                ),
            ),
            City(
                "Vadodara",
                "BRC",
                "Gujarat",
                "3900",
                1.1,
                ("Alkapuri", "Fatehgunj", "Karelibaug", "Manjalpur", "Gotri", "Raopura"),
            ),
            City("Anand", "AND", "Gujarat", "3880", 0.4, ("Vidyanagar", "Station Road", "Bakrol")),
        ),
        "gujarat",
    ),
    Region(
        "Konkan & Goa",
        (
            City(
                "Panaji",
                "PNJ",
                "Goa",
                "4030",
                0.6,
                ("Altinho", "Fontainhas", "Miramar", "Caranzalem", "St Inez"),
            ),
            City("Margao", "MAO", "Goa", "4036", 0.6, ("Fatorda", "Aquem", "Navelim", "Borda")),
            City("Mapusa", "MAP", "Goa", "4035", 0.4, ("Angod", "Khorlim", "Duler")),
            City(
                "Kolhapur",
                "KOP",
                "Maharashtra",
                "4160",
                1.0,
                ("Rajarampuri", "Shahupuri", "Mangalwar Peth", "Tarabai Park", "Laxmipuri"),
            ),
            City("Ratnagiri", "RTN", "Maharashtra", "4156", 0.4, ("Maruti Mandir", "Jaystambh")),
        ),
        "goa",
    ),
    Region(
        "Karnataka Coast",
        (
            City(
                "Mangaluru",
                "MLR",
                "Karnataka",
                "5750",
                1.2,
                ("Hampankatta", "Kadri", "Bejai", "Kankanady", "Bunts Hostel", "Urwa"),
            ),
            City("Udupi", "UDP", "Karnataka", "5761", 0.6, ("Manipal", "Brahmagiri", "Kunjibettu")),
        ),
        "karnataka",
    ),
    Region(
        "Thane & Navi Mumbai",
        (
            City(
                "Thane",
                "TNA",
                "Maharashtra",
                "4006",
                1.3,
                ("Naupada", "Vartak Nagar", "Kopri", "Majiwada", "Ghodbunder Road"),
            ),
            City(
                "Navi Mumbai",
                "NMB",
                "Maharashtra",
                "4007",
                0.9,
                ("Vashi", "Nerul", "Kharghar", "Airoli", "Belapur"),
            ),
            City("Kalyan", "KYN", "Maharashtra", "4213", 0.5, ("Kalyan West", "Kalyan East")),
        ),
        "mumbai",
    ),
    Region(
        "Nashik",
        (
            City(
                "Nashik",
                "NSK",
                "Maharashtra",
                "4220",
                1.1,
                ("Panchavati", "College Road", "Gangapur Road", "Indira Nagar", "Nashik Road"),
            ),
        ),
        "maharashtra",
    ),
    Region(
        "South Gujarat",
        (
            City(
                "Surat",
                "STV",
                "Gujarat",
                "3950",
                1.6,
                ("Adajan", "Varachha", "Athwa Lines", "Katargam", "Udhna", "Piplod"),
            ),
            City("Navsari", "NVS", "Gujarat", "3964", 0.4, ("Lunsikui", "Station Road")),
            City("Valsad", "VLS", "Gujarat", "3960", 0.3, ("Tithal Road", "Halar")),
        ),
        "gujarat",
    ),
)

# A few stores on a territory's edge are served by the agent of the neighbouring region.
NEIGHBOURS: dict[str, str] = {
    "Mumbai": "Pune",
    "Pune": "Mumbai",
    "Thane & Navi Mumbai": "Nashik",
    "Nashik": "Thane & Navi Mumbai",
    "Konkan & Goa": "Karnataka Coast",
    "Karnataka Coast": "Konkan & Goa",
    "South Gujarat": "Thane & Navi Mumbai",
}

SURNAMES: dict[str, tuple[str, ...]] = {
    "maharashtra": (
        "Patil",
        "Jadhav",
        "Shinde",
        "Pawar",
        "Deshmukh",
        "Kulkarni",
        "More",
        "Gaikwad",
        "Bhosale",
        "Joshi",
        "Chavan",
        "Mane",
    ),
    "mumbai": (
        "Patil",
        "Shah",
        "Jain",
        "Gupta",
        "Shaikh",
        "Khan",
        "Sawant",
        "Mehta",
        "Naik",
        "Yadav",
        "Agarwal",
        "Rane",
    ),
    "gujarat": ("Patel", "Shah", "Desai", "Mehta", "Parekh", "Modi", "Thakkar", "Vora", "Soni"),
    "goa": ("Naik", "Kamat", "Fernandes", "D'Souza", "Gaonkar", "Prabhu", "Sawant", "Dessai"),
    "karnataka": ("Shetty", "Pai", "Kamath", "Bhat", "Rao", "Hegde", "Nayak", "D'Souza"),
}

GIVEN_NAMES: dict[str, tuple[str, ...]] = {
    "maharashtra": (
        "Santosh",
        "Ganesh",
        "Rajesh",
        "Sunil",
        "Vijay",
        "Prakash",
        "Sandeep",
        "Anil",
        "Manisha",
        "Sunita",
        "Rahul",
        "Mahesh",
    ),
    "mumbai": (
        "Ramesh",
        "Imran",
        "Suresh",
        "Deepak",
        "Farhan",
        "Kiran",
        "Nilesh",
        "Pooja",
        "Ashok",
        "Salim",
        "Vinod",
        "Neha",
    ),
    "gujarat": (
        "Jignesh",
        "Hitesh",
        "Bhavesh",
        "Ketan",
        "Mehul",
        "Nilesh",
        "Hetal",
        "Kalpesh",
        "Dipak",
        "Mukesh",
    ),
    "goa": ("Anthony", "Savio", "Rohan", "Prashant", "Maria", "Shailesh", "Francis", "Sneha"),
    "karnataka": ("Raghavendra", "Prakash", "Sudhir", "Ganesh", "Lavina", "Vinay", "Sharath"),
}

# Shop names: "<first part> <kind>", plus surname-based names ("Patel Provision Stores").
NAME_FIRST: dict[str, tuple[str, ...]] = {
    "maharashtra": (
        "Shree Ganesh",
        "Jai Malhar",
        "Shivkrupa",
        "Sai",
        "Mahalaxmi",
        "Jai Bhavani",
        "Om Sai",
        "Vithal",
        "Samarth",
        "Shree Swami",
    ),
    "mumbai": (
        "Shree Ganesh",
        "New Bombay",
        "Siddhivinayak",
        "Sai Krupa",
        "Al-Noor",
        "Jai Hind",
        "Bharat",
        "Mahalaxmi",
        "Shree Ram",
        "Navjeevan",
    ),
    "gujarat": (
        "Jai Ambe",
        "Shree Khodiyar",
        "Jalaram",
        "Shreeji",
        "Umiya",
        "Krishna",
        "Ramdev",
        "Momai",
        "Shree Hari",
    ),
    "goa": ("Shantadurga", "Mangesh", "St Anthony", "Damodar", "Sai", "Our Lady", "Mahalasa"),
    "karnataka": ("Sri Durga", "Udupi Sri Krishna", "Sri Mahaganapathi", "Kateel", "Navaratna"),
}

SHOP_KINDS: tuple[str, ...] = (
    "Kirana",
    "Kirana Stores",
    "General Stores",
    "Provision Stores",
    "Super Market",
    "Traders",
    "Mart",
    "Kirana & General",
    "Departmental Store",
)

STREETS: tuple[str, ...] = (
    "M.G. Road",
    "Station Road",
    "Market Yard Road",
    "Tilak Road",
    "Gandhi Chowk",
    "Main Bazar",
    "S.V. Road",
    "Nehru Road",
    "Shivaji Path",
    "Temple Street",
    "Link Road",
    "Old Market Lane",
)

BUILDINGS: tuple[str, ...] = (
    "Sai Krupa Bldg",
    "Shanti Niwas",
    "Laxmi Apartments",
    "Om Shree CHS",
    "Krishna Complex",
    "Ganga Sadan",
    "Royal Plaza",
    "Anand Bhavan",
)
