"""`creditgate demo`, the README's run command: seeds once, keeps its data, and serves the console."""
import os
import re
import subprocess
import time

import requests

import accounts
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import WebDriverWait

from conftest import make_browser

ACCOUNT = re.compile(r"^\s+(D\d{4})\s+(\S+)\s+", re.MULTILINE)


def free_port():
    import socket
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def run_demo(binary, folder, port):
    """Starts the demo in `folder`; returns the process and what it printed before it was ready."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("CREDITGATE_")}
    process = subprocess.Popen([binary, "demo", "--port", str(port)], cwd=folder, env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            if requests.get(f"http://127.0.0.1:{port}/readyz", timeout=1).status_code == 200:
                break
        except requests.ConnectionError:
            pass
        assert process.poll() is None, process.stderr.read()
        time.sleep(0.2)
    return process


def stop(process):
    process.terminate()
    _, printed = process.communicate(timeout=30)
    return printed


def test_demo_seeds_once_and_keeps_its_data(binary, tmp_path):
    port = free_port()
    first = run_demo(binary, tmp_path, port)
    try:
        organisations_url = f"http://127.0.0.1:{port}/api/v1/organisations"
        # Passwords are printed before the server is ready; stderr is read after the stop.
        time.sleep(0.2)
    finally:
        printed = stop(first)
    printed_accounts = dict(ACCOUNT.findall(printed))
    assert sorted(printed_accounts) == ["D0001", "D0002", "D0003", "D0004", "D0005", "D0006"], printed
    assert (tmp_path / "creditgate-data" / "creditgate.sqlite").exists()
    assert oct((tmp_path / "creditgate-data" / "secrets" / "master.key").stat().st_mode & 0o777) == "0o600"

    second = run_demo(binary, tmp_path, port)
    try:
        if not os.environ.get("CREDITGATE_E2E_NO_BROWSER"):
            sign_in_and_out_in_a_browser(port, str(tmp_path), "D0001", printed_accounts["D0001"])
        token = signed_in(port, str(tmp_path), "D0001", printed_accounts["D0001"])
        headers = {"Authorization": f"Bearer {token}"}
        units = requests.get(organisations_url, headers=headers, timeout=5).json()["organisations"]
        assert [unit["code"] for unit in units] == ["DEMO-HO", "DEMO-GD", "DEMO-SH"]
        assert {unit["regionCode"][:2] for unit in units} == {"11", "31", "44"}
        assert all(unit["networks"] for unit in units)
        users = requests.get(f"http://127.0.0.1:{port}/api/v1/users", headers=headers, timeout=5).json()["users"]
        assert len(users) == 6
        assert sorted(role for user in users for role in user["roles"]) == sorted([
            "system_administrator", "credit_administrator", "query_operator", "approver", "compliance_auditor", "data_officer"])
    finally:
        printed_again = stop(second)
    assert "seeded before" in printed_again
    assert not ACCOUNT.findall(printed_again)


def signed_in(port, realm, employee_id, password):
    return accounts.sign_in(f"http://127.0.0.1:{port}", employee_id, password, realm=realm)


def sign_in_and_out_in_a_browser(port, realm, employee_id, password):
    """The printed demo administrator signs in and out in headless Chromium, in both languages. The first time, the
    console asks for a second factor: the test reads the secret the page shows (as a person would type it into an
    authenticator app) and confirms it with a code; the second time it signs in with password and code."""
    for language, welcome in (("zh-CN", "欢迎使用 CreditGate。"), ("en", "Welcome to CreditGate.")):
        browser = make_browser(language)
        try:
            browser.get(f"http://127.0.0.1:{port}/console")
            browser.find_element(By.ID, "employee_id").send_keys(employee_id)
            browser.find_element(By.ID, "password").send_keys(password)
            if accounts.entry(realm, employee_id).get("secret"):
                browser.find_element(By.ID, "code").send_keys(accounts.next_code(realm, employee_id))
            browser.find_element(By.CSS_SELECTOR, "[data-testid=sign-in]").click()
            if not accounts.entry(realm, employee_id).get("secret"):
                WebDriverWait(browser, 15).until(expected_conditions.url_contains("/console/account/second-factor"))
                qr = browser.find_element(By.CSS_SELECTOR, "[data-testid=totp-qr] svg")
                assert qr.get_attribute("role") == "img"
                secret = browser.find_element(By.CSS_SELECTOR, "[data-testid=totp-secret]").text.replace(" ", "")
                accounts.remember(realm, employee_id, secret=secret, last_step=-1)
                browser.find_element(By.ID, "code").send_keys(accounts.next_code(realm, employee_id))
                browser.find_element(By.CSS_SELECTOR, "[data-testid=confirm-totp]").click()
            WebDriverWait(browser, 15).until(expected_conditions.url_contains("/console/home"))
            assert browser.find_element(By.CSS_SELECTOR, "[data-testid=welcome]").text == welcome
            assert browser.find_element(By.CSS_SELECTOR, "[data-testid=user-name]").text == "王建国"
            browser.find_element(By.CSS_SELECTOR, "[data-testid=sign-out]").click()
            WebDriverWait(browser, 15).until(expected_conditions.url_contains("/console/sign-in"))
        finally:
            browser.quit()
