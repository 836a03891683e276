"""The console in a real headless Chromium, in both languages."""
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import WebDriverWait

import accounts

TEXT = {
    "zh-CN": {"title": "登录", "button": "登录", "welcome": "欢迎使用 CreditGate。", "users": "用户", "signed_out": "您已安全退出。",
              "failed": "员工统一认证号或密码不正确。"},
    "en": {"title": "Sign in", "button": "Sign in", "welcome": "Welcome to CreditGate.", "users": "Users", "signed_out": "You have signed out.",
           "failed": "The employee ID or password is not correct."},
}


def wait(browser):
    return WebDriverWait(browser, 15)


def sign_in(browser, base_url, employee_id, password, code=None):
    browser.get(f"{base_url}/console/sign-in")
    browser.find_element(By.ID, "employee_id").send_keys(employee_id)
    browser.find_element(By.ID, "password").send_keys(password)
    if code:
        browser.find_element(By.ID, "code").send_keys(code)
    browser.find_element(By.CSS_SELECTOR, "[data-testid=sign-in]").click()


def test_sign_in_navigate_and_sign_out(browser, base_url, admin, artifacts):
    text = TEXT[browser.language]
    browser.get(f"{base_url}/console")
    wait(browser).until(expected_conditions.presence_of_element_located((By.ID, "employee_id")))
    assert browser.find_element(By.TAG_NAME, "html").get_attribute("lang") == browser.language
    assert browser.find_element(By.TAG_NAME, "h1").text == text["title"]
    browser.save_screenshot(str(artifacts / f"sign-in-{browser.language}.png"))

    # The administrator's second factor is enrolled (through the API if no earlier test did); the console asks for
    # the current code with the password.
    if not accounts.entry(base_url, admin["employeeId"]).get("secret"):
        accounts.sign_in(base_url, admin["employeeId"], admin["password"])
    sign_in(browser, base_url, admin["employeeId"], admin["password"], accounts.next_code(base_url, admin["employeeId"]))
    wait(browser).until(expected_conditions.url_contains("/console/home"))
    assert browser.find_element(By.CSS_SELECTOR, "[data-testid=welcome]").text == text["welcome"]
    assert browser.find_element(By.CSS_SELECTOR, "[data-testid=user-name]").text == "测试管理员"
    browser.save_screenshot(str(artifacts / f"home-{browser.language}.png"))

    browser.find_element(By.LINK_TEXT, text["users"]).click()
    wait(browser).until(expected_conditions.url_contains("/console/users"))
    assert admin["employeeId"] in browser.find_element(By.CSS_SELECTOR, "[data-testid=users]").text

    browser.find_element(By.CSS_SELECTOR, "[data-testid=sign-out]").click()
    wait(browser).until(expected_conditions.url_contains("/console/sign-in"))
    assert browser.find_element(By.CSS_SELECTOR, "[data-testid=notice]").text == text["signed_out"]
    browser.get(f"{base_url}/console/home")
    wait(browser).until(expected_conditions.url_contains("/console/sign-in"))


def test_wrong_password_shows_the_same_message(browser, base_url, admin):
    text = TEXT[browser.language]
    sign_in(browser, base_url, admin["employeeId"], "Definitely-wrong-1")
    error = wait(browser).until(expected_conditions.presence_of_element_located((By.CSS_SELECTOR, "[data-testid=signin-error]")))
    assert error.text == text["failed"]
    sign_in(browser, base_url, "NOBODY42", "Definitely-wrong-1")
    error = wait(browser).until(expected_conditions.presence_of_element_located((By.CSS_SELECTOR, "[data-testid=signin-error]")))
    assert error.text == text["failed"]


def test_no_inline_script_or_style_and_no_outside_assets(browser, base_url):
    browser.get(f"{base_url}/console/sign-in")
    html = browser.page_source
    assert "<script" not in html
    assert " style=" not in html
    for element in browser.find_elements(By.CSS_SELECTOR, "link[href], script[src], img[src]"):
        url = element.get_attribute("href") or element.get_attribute("src")
        assert url.startswith(base_url) or url.startswith("data:"), url
    logs = [entry for entry in browser.get_log("browser") if "Content Security Policy" in entry.get("message", "")]
    assert logs == []
