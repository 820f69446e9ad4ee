"""The shop example's admin (Django's sync views, on the async engine's alias) in headless Chromium:
log in, list, add, change, delete a product. Debian's `chromium` and `chromium-driver` (`make deps`)
and Selenium (the `test` extra)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from tests.examples.shopapp import ADMIN_PASSWORD, ShopApp, serve_shop
from tests.testbed import Testbed

CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"


def require_browser() -> Any:
    """Selenium's webdriver, or a skip naming what is missing (a failure under CI=true, where
    `make deps` installs the packages)."""
    missing = [path for path in (CHROMIUM, CHROMEDRIVER) if not os.access(path, os.X_OK)]
    try:
        from selenium import webdriver
    except ImportError:
        webdriver, missing = None, [*missing, "the selenium package (the `test` extra)"]
    if missing:
        reason = f"environment: no {', '.join(missing)} (Debian's chromium and chromium-driver: `make deps`)"
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI: {reason}")
        pytest.skip(reason)
    return webdriver


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[Any]:
    webdriver = require_browser()
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--no-first-run", "--window-size=1280,1024", f"--user-data-dir={tmp_path / 'chromium'}"):  # fmt: skip
        options.add_argument(flag)
    driver = webdriver.Chrome(
        service=Service(CHROMEDRIVER, log_output=str(tmp_path / "chromedriver.log")), options=options
    )
    driver.implicitly_wait(10)
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture
def shop(testbed: Testbed, tmp_path: Path) -> Iterator[ShopApp]:
    require_browser()  # skip before the app is built
    pytest.importorskip("uvicorn", reason="environment: uvicorn is not installed (the `test` extra)")
    yield from serve_shop(testbed.master, "shop_admin", tmp_path / "state")


def test_admin_login_list_add_change_delete(shop: ShopApp, browser: Any) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions
    from selenium.webdriver.support.ui import Select, WebDriverWait

    def click_and_wait(by: str, value: str) -> None:
        """Click what navigates, then wait until the old page is gone: without the wait, the next
        lookup can find an element of the page being left (the login page has #site-name too) and
        read it after Chromium has detached it."""
        page = browser.find_element(By.TAG_NAME, "html")
        browser.find_element(by, value).click()
        WebDriverWait(browser, 20).until(expected_conditions.staleness_of(page))

    def submit(name: str = "") -> None:
        selector = f'input[type="submit"][name="{name}"]' if name else 'input[type="submit"]'
        click_and_wait(By.CSS_SELECTOR, selector)

    def message() -> str:
        return browser.find_element(By.CSS_SELECTOR, "ul.messagelist li").text

    def product_rows(name: str) -> list[tuple[Any, ...]]:
        return shop.query(
            "SELECT p.id, b.name, p.price, p.stock FROM shop_product p JOIN shop_brand b ON b.id = p.brand_id"
            " WHERE p.name = %s",
            (name,),
        )

    # Log in.
    browser.get(shop.base + "/admin/")
    assert "/admin/login/" in browser.current_url
    browser.find_element(By.ID, "id_username").send_keys("admin")
    browser.find_element(By.ID, "id_password").send_keys(ADMIN_PASSWORD)
    submit()
    assert browser.find_element(By.ID, "site-name").text == "Django administration"
    assert browser.find_element(By.LINK_TEXT, "Products")

    # List: the seeded products, 40 of them.
    click_and_wait(By.LINK_TEXT, "Products")
    assert browser.current_url.endswith("/admin/shop/product/")
    assert "40 products" in browser.find_element(By.CSS_SELECTOR, ".paginator").text
    assert browser.find_element(By.LINK_TEXT, "Product 000")

    # Add one (a foreign key to the REFERENCE table Brand, a ROWSTORE table).
    browser.get(shop.base + "/admin/shop/product/add/")
    Select(browser.find_element(By.ID, "id_brand")).select_by_visible_text("Globex")
    browser.find_element(By.ID, "id_name").send_keys("Browser lamp")
    browser.find_element(By.ID, "id_price").send_keys("12.50")
    stock = browser.find_element(By.ID, "id_stock")
    stock.clear()
    stock.send_keys("7")
    submit("_save")
    assert "was added successfully" in message()
    [(pk, brand, price, stock_value)] = product_rows("Browser lamp")
    assert (brand, price, stock_value) == ("Globex", Decimal("12.50"), 7)
    assert "41 products" in browser.find_element(By.CSS_SELECTOR, ".paginator").text

    # Change it.
    click_and_wait(By.LINK_TEXT, "Browser lamp")
    assert browser.current_url.endswith(f"/admin/shop/product/{pk}/change/")
    price_input = browser.find_element(By.ID, "id_price")
    price_input.clear()
    price_input.send_keys("13.75")
    submit("_save")
    assert "was changed successfully" in message()
    assert product_rows("Browser lamp") == [(pk, "Globex", Decimal("13.75"), 7)]

    # Delete it.
    browser.get(f"{shop.base}/admin/shop/product/{pk}/change/")
    click_and_wait(By.CSS_SELECTOR, "a.deletelink")
    assert browser.current_url.endswith(f"/admin/shop/product/{pk}/delete/")
    submit()
    assert "was deleted successfully" in message()
    assert product_rows("Browser lamp") == []
    assert "40 products" in browser.find_element(By.CSS_SELECTOR, ".paginator").text
