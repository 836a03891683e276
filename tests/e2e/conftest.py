"""Fixtures for the end-to-end suite, run by scripts/test against a live `creditgate serve`."""
import os
import pathlib

import pytest
import requests

import accounts


def _env(name):
    value = os.environ.get(name)
    if not value:
        pytest.skip(f"{name} is not set: run the suite through scripts/test")
    return value


@pytest.fixture(scope="session")
def base_url():
    return _env("CREDITGATE_E2E_BASE_URL").rstrip("/")


@pytest.fixture(scope="session")
def admin():
    return {"employeeId": _env("CREDITGATE_E2E_ADMIN_ID"), "password": _env("CREDITGATE_E2E_ADMIN_PASSWORD")}


@pytest.fixture(scope="session")
def binary():
    return _env("CREDITGATE_E2E_BINARY")


@pytest.fixture(scope="session")
def artifacts():
    folder = pathlib.Path(os.environ.get("CREDITGATE_E2E_ARTIFACTS", "/tmp/creditgate-e2e-artifacts"))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture()
def token(base_url, admin):
    value = accounts.sign_in(base_url, admin["employeeId"], admin["password"])
    yield value
    requests.delete(f"{base_url}/api/v1/sessions/current", headers={"Authorization": f"Bearer {value}"}, timeout=10)


def make_browser(language):
    """Headless Debian Chromium through its own chromedriver; nothing is downloaded."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1280,900",
                     f"--lang={language}"):
        options.add_argument(argument)
    options.add_experimental_option("prefs", {"intl.accept_languages": language})
    return webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)


@pytest.fixture(params=["zh-CN", "en"])
def browser(request):
    if os.environ.get("CREDITGATE_E2E_NO_BROWSER"):
        pytest.skip("chromium or chromedriver is not installed")
    driver = make_browser(request.param)
    driver.language = request.param
    yield driver
    driver.quit()
