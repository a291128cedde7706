"""Demo data for ``loanfactory serve --demo``: the shipped products published, a user per role, a channel key.

Seeding is repeatable: products already published, users already present and calendar dates already
seeded are left alone. Each run issues a fresh demo channel key (only its hash is stored, so the
plaintext can be printed only when it is made). Nothing here is used outside the demo.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.backoffice.users import Role, User, create_user
from core.businessday.calendar import seed_calendar
from core.channels.keys import issue_api_key
from core.finance.charts import chart_in_force
from core.products.models import ProductVersion
from core.products.references import plugin_registry
from core.products.validate import read_document
from core.products.versions import create_draft, publish, submit
from loanfactory import clock
from loanfactory.database import get_db
from loanfactory.plugins_host import get_plugins

SAMPLES = Path(__file__).resolve().parent.parent / "product_configs"
DEMO_CHANNEL = "demo-app"
MAKER, CHECKER = "demo-product-manager", "demo-risk-manager"


def demo_password(role: Role) -> str:
    """The demo password of ``role``'s user (demo only: printed at start-up)."""
    return f"demo-{role.value}-pass"


@dataclass
class DemoSeed:
    """What the demo seeded: published products, users (name, password, role) and the channel key."""

    products: list[str] = field(default_factory=list)
    users: list[tuple[str, str, str]] = field(default_factory=list)
    api_key: str = ""
    problems: list[str] = field(default_factory=list)


def _publish_samples(session: Session, seed: DemoSeed, plugins: dict[str, frozenset[str]]) -> None:
    published = set(session.scalars(select(ProductVersion.code).where(ProductVersion.status == "published")))
    for path in sorted(SAMPLES.glob("*.json")):
        document = read_document(path)
        code = str(document.get("code"))
        if code not in published:
            try:
                version = create_draft(session, document, actor=MAKER, note="demo sample")
                submit(session, version, actor=MAKER, plugins=plugins, chart=chart_in_force(session))
                publish(session, version, actor=CHECKER)
                session.commit()
            except Exception as error:  # a sample that no longer validates is reported, not fatal
                session.rollback()
                seed.problems.append(f"{path.name}: {error}")
                continue
        seed.products.append(code)


def _users(session: Session, seed: DemoSeed) -> None:
    existing = set(session.scalars(select(User.username)))
    for role in Role:
        username = f"demo-{role.value.replace('_', '-')}"
        if username not in existing:
            create_user(session, username=username, password=demo_password(role), roles=[role],
                        display_name=f"Demo {role.value}")
        seed.users.append((username, demo_password(role), role.value))
    session.commit()


def seed_demo(app: Flask, today: date | None = None) -> DemoSeed:
    """Publish the samples, add the demo users, cover this year and next in the business calendar and
    issue a demo channel key that may sell every product."""
    seed = DemoSeed()
    with app.app_context():
        today = today or clock.today()
        session = get_db(app).session()
        seed_calendar(session, date(today.year, 1, 1), date(today.year + 1, 12, 31))
        session.commit()
        _publish_samples(session, seed, plugin_registry(get_plugins(app)))
        _users(session, seed)
        _client, seed.api_key = issue_api_key(session, DEMO_CHANNEL, ["*"], name="Demo channel",
                                              rate_limit="6000/minute")
        session.commit()
    return seed
