"""The README's quick start (its settings and asgi.py) and the async engine section's async-view and
raw-cursor examples, run as written against the test bed, so the README cannot drift from the code.

The examples import `shop.models`: they run on the example app's models (examples/shop), with the
quick start's DATABASES pointed at a database of the test bed."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import MySQLdb

from tests.dbtools import own_database
from tests.examples.shopapp import SHOP
from tests.testbed import Endpoint, Testbed

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text()


def section(heading: str) -> str:
    start = README.index(f"\n{heading}\n")
    end = README.find("\n## ", start + len(heading) + 2)
    return README[start : end if end > 0 else None]


def code_blocks(text: str, language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", text, flags=re.S)


def block_after(text: str, lead: str) -> str:
    """The first python block after the sentence `lead`."""
    return code_blocks(text[text.index(lead) :], "python")[0]


def test_the_quick_start_install_line_names_this_project_and_its_extra() -> None:
    [install] = code_blocks(section("## Quick start"), "bash")
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    [target] = re.findall(r'pip install "([^"]+)"', install)
    assert target.endswith("django-singlestore[async]") and "async" in extras


def test_readme_quick_start_and_async_examples_run(testbed: Testbed, tmp_path: Path) -> None:
    [quick_start] = code_blocks(section("## Quick start"), "python")
    split = quick_start.index("# asgi.py")
    settings_part, asgi_part = quick_start[:split], quick_start[split:]
    engine_section = section('## The async engine (`ENGINE: "django_singlestore_async"`)')
    async_view = block_after(engine_section, "An async view, plain Django code:")
    raw_view = block_after(engine_section, "A raw-cursor ASGI view:")

    name = "readme_examples"
    master = testbed.master
    (tmp_path / "readme_settings.py").write_text(
        "import os\n"
        "from shop.settings import *  # the example app's middleware, templates, apps\n\n"
        "INSTALLED_APPS = [app for app in INSTALLED_APPS if app != 'django_singlestore_async']\n"
        "# --- the README's quick start, verbatim ---\n"
        f"{settings_part}\n"
        "# --- pointed at the test bed ---\n"
        f"DATABASES['default'].update(HOST={master.host!r}, PORT={master.port}, NAME={name!r}, USER={master.user!r})\n"
        "ROOT_URLCONF = 'readme_urls'\n"
    )
    (tmp_path / "readme_asgi.py").write_text(asgi_part)
    (tmp_path / "readme_product_view.py").write_text(async_view)
    (tmp_path / "readme_raw_view.py").write_text(raw_view)
    (tmp_path / "readme_urls.py").write_text(
        "from django.urls import path\n\n"
        "from readme_product_view import product\n"
        "from readme_raw_view import top_products\n\n"
        "urlpatterns = [path('product/<int:pk>', product), path('top', top_products)]\n"
    )
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "readme_settings",
        "PYTHONPATH": os.pathsep.join([str(tmp_path), str(SHOP), str(ROOT)]),
        "S2_PASSWORD": master.password,  # what the quick start reads
        "SHOP_DATABASE_URL": "mysql://unused:unused@127.0.0.1:9/unused",  # replaced by the quick start's
    }
    with own_database(master, name):
        run = subprocess.run(
            [sys.executable, str(Path(__file__).with_name("readme_driver.py"))],
            cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300,
        )  # fmt: skip
        assert run.returncode == 0, run.stdout + run.stderr
        report = json.loads(run.stdout.splitlines()[-1])
        endpoint = Endpoint(master.host, master.port, master.user, master.password, name)
        conn = MySQLdb.connect(**endpoint.mysqldb_kwargs())
        try:
            with conn.cursor() as cur:
                cur.execute(
                    "SELECT o.product_id, u.username, l.product_id, l.quantity FROM shop_order o"
                    " JOIN auth_user u ON u.id = o.user_id JOIN shop_orderline l ON l.order_id = o.id"
                    " WHERE o.id = %s",
                    (report["product"][1]["order"],),
                )
                order = cur.fetchall()
                cur.execute("SELECT b.name FROM shop_brand b JOIN shop_product p ON p.brand_id = b.id WHERE p.id = %s",
                            (report["product_pk"],))  # fmt: skip
                [(brand,)] = cur.fetchall()
                cur.execute("SELECT id, name FROM shop_product")
                products = set(cur.fetchall())
        finally:
            conn.close()

    assert (report["startup"], report["shutdown"]) == (
        "lifespan.startup.complete",
        "lifespan.shutdown.complete",
    )
    status, product = report["product"]
    assert status == 200
    assert (product["name"], product["brand"]) == ("Product 005", brand)
    # seed_demo: 12 products over 4 brands; the related ones are the other 2 of the same brand.
    assert len(product["related"]) == 2 and "Product 005" not in product["related"]
    pk = report["product_pk"]
    assert order == ((pk, "customer", pk, 1),)
    status, listing = report["top"]
    assert status == 200 and len(listing["products"]) == 10
    assert {(p["id"], p["name"]) for p in listing["products"]} < products  # nothing sold yet: any 10
