"""Static ingredients of the demo store the seed builds ("Northwind Outfitters")."""

from __future__ import annotations

FIRST_NAMES = [
    "Olivia", "Liam", "Emma", "Noah", "Ava", "Oliver", "Sophia", "Elijah", "Isabella", "James",
    "Mia", "William", "Amelia", "Benjamin", "Harper", "Lucas", "Evelyn", "Henry", "Abigail",
    "Alexander", "Emily", "Daniel", "Ella", "Matthew", "Scarlett", "Jackson", "Grace", "Sebastian",
    "Chloe", "Aiden", "Camila", "Samuel", "Penelope", "David", "Riley", "Joseph", "Layla",
    "Carter", "Lillian", "Owen", "Nora", "Wyatt", "Zoey", "John", "Mila", "Jack", "Aubrey", "Luke",
    "Hannah", "Jayden", "Priya", "Mateo", "Aisha", "Diego", "Mei", "Kenji", "Fatima", "Omar",
    "Ingrid", "Lars",
]  # fmt: skip

LAST_NAMES = [
    "Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Rodriguez",
    "Martinez", "Hernandez", "Lopez", "Gonzalez", "Wilson", "Anderson", "Thomas", "Taylor", "Moore",
    "Jackson", "Martin", "Lee", "Perez", "Thompson", "White", "Harris", "Sanchez", "Clark",
    "Ramirez", "Lewis", "Robinson", "Walker", "Young", "Allen", "King", "Wright", "Scott", "Torres",
    "Nguyen", "Hill", "Flores", "Green", "Adams", "Nelson", "Baker", "Hall", "Rivera", "Campbell",
    "Mitchell", "Carter", "Roberts", "Patel", "Kim", "Okafor", "Schmidt", "Rossi", "Dubois",
    "Tanaka", "Novak", "Larsen", "Silva",
]  # fmt: skip

# (city, region, country, zip, timezone, latitude, longitude)
CITIES = [
    ("Boston", "MA", "United States", "02110", "America/New_York", 42.3601, -71.0589),
    ("New York", "NY", "United States", "10001", "America/New_York", 40.7128, -74.0060),
    ("Chicago", "IL", "United States", "60601", "America/Chicago", 41.8781, -87.6298),
    ("Austin", "TX", "United States", "73301", "America/Chicago", 30.2672, -97.7431),
    ("Denver", "CO", "United States", "80202", "America/Denver", 39.7392, -104.9903),
    ("Seattle", "WA", "United States", "98101", "America/Los_Angeles", 47.6062, -122.3321),
    ("San Francisco", "CA", "United States", "94103", "America/Los_Angeles", 37.7749, -122.4194),
    ("Los Angeles", "CA", "United States", "90012", "America/Los_Angeles", 34.0522, -118.2437),
    ("Miami", "FL", "United States", "33101", "America/New_York", 25.7617, -80.1918),
    ("Portland", "OR", "United States", "97201", "America/Los_Angeles", 45.5152, -122.6784),
    ("Toronto", "ON", "Canada", "M5H 2N2", "America/Toronto", 43.6532, -79.3832),
    ("Vancouver", "BC", "Canada", "V6B 1A1", "America/Vancouver", 49.2827, -123.1207),
    ("London", "England", "United Kingdom", "EC1A 1BB", "Europe/London", 51.5074, -0.1278),
    ("Manchester", "England", "United Kingdom", "M1 1AE", "Europe/London", 53.4808, -2.2426),
    ("Dublin", "Leinster", "Ireland", "D02 XY45", "Europe/Dublin", 53.3498, -6.2603),
    ("Berlin", "Berlin", "Germany", "10115", "Europe/Berlin", 52.5200, 13.4050),
    ("Amsterdam", "North Holland", "Netherlands", "1012 JS", "Europe/Amsterdam", 52.3676, 4.9041),
    ("Sydney", "NSW", "Australia", "2000", "Australia/Sydney", -33.8688, 151.2093),
]  # fmt: skip

STREETS = ["Main St", "Oak Ave", "Maple Dr", "Cedar Ln", "Elm St", "Harbor Rd", "Park Pl"]
EMAIL_DOMAINS = ["example.com", "example.org", "example.net", "mail.example.com"]
LOYALTY_TIERS = ["Bronze", "Silver", "Gold", "Platinum"]
SOURCES = ["Website popup", "Checkout", "In-store", "Instagram", "Referral"]

LISTS = [
    "Newsletter", "VIP", "Winback", "Product Launch Waitlist", "Holiday Shoppers",
    "Wholesale Leads", "In-store Signups", "Blog Subscribers", "Beta Testers",
    "Referral Program", "SMS Subscribers", "Engaged 90 Days",
]  # fmt: skip

METRICS = [
    "Viewed Product", "Started Checkout", "Placed Order", "Received Email", "Opened Email",
    "Clicked Email", "Unsubscribed from Email Marketing",
]  # fmt: skip

# category -> [(product title, base price)]
PRODUCTS = {
    "Apparel": [("Merino Crew Sweater", 89.0), ("Organic Cotton Tee", 29.0),
                ("Linen Button-Down", 68.0), ("Quilted Field Jacket", 189.0),
                ("Everyday Chinos", 74.0), ("Fleece Quarter-Zip", 79.0)],
    "Footwear": [("Trail Runner 2", 129.0), ("Canvas Low-Top", 59.0),
                 ("Leather Chelsea Boot", 198.0), ("Wool Slipper", 49.0)],
    "Accessories": [("Waxed Canvas Tote", 85.0), ("Merino Beanie", 32.0), ("Leather Belt", 55.0),
                    ("Polarized Sunglasses", 120.0), ("Insulated Bottle", 36.0)],
    "Home": [("Stoneware Mug Set", 42.0), ("Wool Throw Blanket", 145.0), ("Cedar Candle", 28.0),
             ("Linen Napkins (4)", 38.0), ("Enamel Camp Plate", 18.0)],
}  # fmt: skip
SIZES = {"Apparel": ["S", "M", "L"], "Footwear": ["8", "9", "10"]}

TEMPLATES = {
    "Welcome Email": (
        "<html><body><h1>Welcome to Northwind, {{ first_name|default:'friend' }}!</h1>"
        "<p>Thanks for joining. Here is 10% off your first order: <b>WELCOME10</b>.</p>"
        "</body></html>"
    ),
    "Spring Sale": (
        "<html><body><h1>Spring Sale, {{ first_name }}</h1><p>Up to 30% off outerwear "
        "this week only.</p><a href='https://northwind.example.com/sale'>Shop now</a>"
        "</body></html>"
    ),
    "Abandoned Checkout": (
        "<html><body><p>Hi {{ first_name|default:'there' }}, you left "
        "{{ event.ProductName|default:'something' }} in your cart.</p></body></html>"
    ),
    "Order Confirmation": (
        "<html><body><h1>Thanks for your order, {{ first_name }}!</h1>"
        "<p>Order {{ event.OrderId }} is on its way.</p></body></html>"
    ),
}

# name, subject, audience lists, days ago sent (None: draft)
CAMPAIGNS = [
    ("Spring Sale Kickoff", "Spring Sale: up to 30% off outerwear", ["Newsletter"], 70),
    ("New Arrivals: Trail Collection", "Meet the Trail Runner 2", ["Newsletter", "VIP"], 42),
    ("VIP Early Access", "You're in: early access for VIPs", ["VIP"], 14),
    ("Summer Preview", "A first look at summer", ["Newsletter"], None),
]

# name, status, trigger type, triggering list or metric, email subjects
FLOWS = [
    (
        "Welcome Series",
        "live",
        "Added to List",
        "Newsletter",
        ["Welcome to Northwind", "Our bestsellers"],
    ),
    ("Abandoned Checkout", "live", "Metric", "Started Checkout", ["You left something behind"]),
    ("Post-Purchase Thank You", "manual", "Metric", "Placed Order", ["Thanks for your order"]),
]

COUPONS = [
    ("WELCOME10", "10% off a first order"),
    ("VIP20", "20% off for VIP members"),
    ("FREESHIP", "Free shipping on any order"),
]

WEBHOOK_TOPICS = [
    "event:klaviyo.received_email", "event:klaviyo.opened_email", "event:klaviyo.clicked_email",
    "event:klaviyo.bounced_email", "event:klaviyo.marked_email_as_spam",
    "event:klaviyo.unsubscribed_from_email_marketing", "event:klaviyo.sent_sms",
    "event:klaviyo.received_sms", "event:klaviyo.clicked_sms",
    "event:klaviyo.failed_to_deliver_sms",
    "event:klaviyo.subscribed_to_list", "event:klaviyo.unsubscribed_from_list",
]  # fmt: skip
