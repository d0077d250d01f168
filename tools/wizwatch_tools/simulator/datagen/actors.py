"""The simulated tenant's actors and projects, and the random ids, tokens and IPs records use."""

from __future__ import annotations

import random
import string
import uuid

USERS = [
    ("alice.martin@example.com", "Alice Martin"),
    ("bob.chen@example.com", "Bob Chen"),
    ("carol.diaz@example.com", "Carol Diaz"),
    ("dan.okafor@example.com", "Dan Okafor"),
    ("erin.walsh@example.com", "Erin Walsh"),
    ("secops-oncall@example.com", "secops-oncall@example.com"),
]

BROWSER_AGENTS = [
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/126.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/125.0.0.0 Safari/537.36",
    "Mozilla/5.0 (X11; Linux x86_64; rv:127.0) Gecko/20100101 Firefox/127.0",
]
SERVICE_AGENTS = [
    "python-requests/2.31.0",
    "Wiz-Terraform-Provider/1.13.3433",
    "wiz-sensor/1.0.6349",
    "node",
    "wizwatch/0.1.0",
]

PROJECTS = [
    {
        "id": "83b76efe-a7b6-5762-8a53-8e8f59e68bd8",
        "name": "Project 2",
        "slug": "project-2",
        "businessUnit": "",
        "riskProfile": {"businessImpact": "MBI"},
    },
    {
        "id": "af52828c-4eb1-5c4e-847c-ebc3a5ead531",
        "name": "Payments",
        "slug": "payments",
        "businessUnit": "Dev",
        "riskProfile": {"businessImpact": "HBI"},
    },
    {
        "id": "d6ac50bb-aec0-52fc-80ab-bacd7b02f178",
        "name": "Data Platform",
        "slug": "data-platform",
        "businessUnit": "Data",
        "riskProfile": {"businessImpact": "LBI"},
    },
]

USERPOOL_ID = "us-east-2_GQ3gwvxsQ"


def rand_uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def rand_token(rng: random.Random, n: int, alphabet: str = string.ascii_lowercase + string.digits) -> str:
    return "".join(rng.choice(alphabet) for _ in range(n))


def rand_ip(rng: random.Random) -> str:
    net = rng.choice(["203.0.113", "198.51.100", "192.0.2"])
    return f"{net}.{rng.randint(1, 254)}"


class Actors:
    """The tenant's people and service accounts (service-account ids look like Wiz's 52-char ids)."""

    def __init__(self, rng: random.Random) -> None:
        self.users = [{"id": uid, "name": name} for uid, name in USERS]
        self.service_accounts = [
            {"id": rand_token(rng, 52), "name": name}
            for name in ("sentinel-connector", "terraform-ci", "wiz-sensor-deploy", "reporting")
        ]
