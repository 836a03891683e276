"""People and access in a real headless Chromium, in Chinese: an administrator creates a branch, a sub-branch and
their staff; a loan officer signs in for the first time (new password, second factor from the QR page), fails the
access exam, passes it; the credit administrators of the sub-branch and the branch approve level by level; the
officer signs in with password and TOTP and has query rights."""
import json
import os
import pathlib
import time

import pytest
from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.select import Select
from selenium.webdriver.support.ui import WebDriverWait

import requests

import accounts
from conftest import make_browser
from logverifier import LogVerifier

BANK = pathlib.Path(__file__).resolve().parents[2] / "Sources/CreditGateServer/Resources/exam/question-bank.json"


# A resident ID with a valid GB 11643 check digit.
SUBJECT_ID = "110105199003070017"


def set_date(browser, element_id, value):
    """Fills an <input type=date> the same way in every locale."""
    browser.execute_script("document.getElementById(arguments[0]).value = arguments[1]", element_id, value)


def wait(browser, condition):
    # A form's answer replaces the page: an element found a moment before can go stale while the condition reads it.
    return WebDriverWait(browser, 20, ignored_exceptions=(NoSuchElementException, StaleElementReferenceException)).until(condition)


def sign_in(browser, base_url, employee_id, password):
    """Signs in through the console, finishing a forced password change and the second-factor enrolment when the
    console asks for them. Returns the password in force."""
    password = accounts.password_of(base_url, employee_id, password)
    browser.get(f"{base_url}/console/sign-in")
    browser.find_element(By.ID, "employee_id").send_keys(employee_id)
    browser.find_element(By.ID, "password").send_keys(password)
    if accounts.entry(base_url, employee_id).get("secret"):
        browser.find_element(By.ID, "code").send_keys(accounts.next_code(base_url, employee_id))
    browser.find_element(By.CSS_SELECTOR, "[data-testid=sign-in]").click()
    wait(browser, lambda b: "/console/home" in b.current_url or "/console/account/" in b.current_url)
    if "/console/account/password" in browser.current_url:
        new = password[:16] + "-Cg7x"
        browser.find_element(By.ID, "current_password").send_keys(password)
        browser.find_element(By.ID, "new_password").send_keys(new)
        browser.find_element(By.ID, "confirm_password").send_keys(new)
        browser.find_element(By.CSS_SELECTOR, "[data-testid=change-password]").click()
        accounts.remember(base_url, employee_id, password=new)
        password = new
        wait(browser, lambda b: "/console/account/password" not in b.current_url)
    if "/console/account/second-factor" in browser.current_url:
        assert browser.find_element(By.CSS_SELECTOR, "[data-testid=totp-qr] svg path").get_attribute("d")
        secret = browser.find_element(By.CSS_SELECTOR, "[data-testid=totp-secret]").text.replace(" ", "")
        accounts.remember(base_url, employee_id, secret=secret, last_step=-1)
        browser.find_element(By.ID, "code").send_keys(accounts.next_code(base_url, employee_id))
        browser.find_element(By.CSS_SELECTOR, "[data-testid=confirm-totp]").click()
    wait(browser, expected_conditions.url_contains("/console/home"))
    return password


def sign_out(browser):
    browser.find_element(By.CSS_SELECTOR, "[data-testid=sign-out]").click()
    wait(browser, expected_conditions.url_contains("/console/sign-in"))


def create_unit(browser, base_url, code, name, kind, parent, region):
    browser.get(f"{base_url}/console/organisations")
    browser.find_element(By.ID, "code").send_keys(code)
    browser.find_element(By.ID, "name").send_keys(name)
    Select(browser.find_element(By.ID, "kind")).select_by_value(kind)
    Select(browser.find_element(By.ID, "parent_id")).select_by_visible_text(parent)
    browser.find_element(By.ID, "region_code").send_keys(region)
    # The unit's own networks, and this machine's loopback, from which the browser queries (非绑定IP实时阻断).
    browser.find_element(By.ID, "networks").send_keys("10.77.0.0/16 fd00:77::/48 127.0.0.0/8 ::1/128")
    browser.find_element(By.CSS_SELECTOR, "[data-testid=create-organisation]").click()
    assert code in wait(browser, expected_conditions.presence_of_element_located((By.CSS_SELECTOR, "[data-testid=org-created]"))).text


def open_account(browser, base_url, employee_id, name, unit, role):
    browser.get(f"{base_url}/console/users")
    browser.find_element(By.ID, "employee_id").send_keys(employee_id)
    browser.find_element(By.ID, "display_name").send_keys(name)
    Select(browser.find_element(By.ID, "organisation_id")).select_by_visible_text(unit)
    browser.find_element(By.CSS_SELECTOR, f"[data-testid=role-{role}]").click()
    browser.find_element(By.CSS_SELECTOR, "[data-testid=open-account]").click()
    return wait(browser, expected_conditions.presence_of_element_located((By.CSS_SELECTOR, "[data-testid=initial-password]"))).text


def check_report_viewer(browser, artifacts):
    """Opens the answered query's report: readable, watermarked with this view's ID, nothing to select or copy, and
    on paper only a notice (R-31)."""
    browser.find_element(By.CSS_SELECTOR, "[data-testid=query-link]").click()
    wait(browser, expected_conditions.element_to_be_clickable((By.CSS_SELECTOR, "[data-testid=open-report]"))).click()
    report = wait(browser, expected_conditions.presence_of_element_located((By.CSS_SELECTOR, "[data-testid=report]")))
    view_id = browser.find_element(By.CSS_SELECTOR, "[data-testid=view-id]").text
    assert len(view_id) == 19, view_id
    lines = [element.text for element in browser.find_elements(By.CSS_SELECTOR, ".watermark-line")]
    assert len(lines) >= 8 and all(view_id in line and "E2E-LO" in line for line in lines), lines
    watermark = browser.find_elements(By.CSS_SELECTOR, "svg.watermark text")
    assert watermark and view_id in watermark[0].get_attribute("textContent")
    assert "手机号码" in report.text and "近24个月还款记录" in report.text
    phone = browser.execute_script(
        "var d = [...document.querySelectorAll('.report dt')].find(e => e.textContent.includes('手机号码'));"
        "return d ? d.nextElementSibling.textContent : '';")
    assert len(phone) == 11, phone
    browser.save_screenshot(str(artifacts / "report-viewer.png"))
    # Select all, by the keyboard and by the editing command: the report's text is not in the selection.
    report.click()
    ActionChains(browser).key_down(Keys.CONTROL).send_keys("a").key_up(Keys.CONTROL).perform()
    assert phone not in browser.execute_script("return window.getSelection().toString()")
    browser.execute_script("document.execCommand('selectAll')")
    assert phone not in browser.execute_script("return window.getSelection().toString()")
    # A copy event is cancelled before anything reaches the clipboard.
    copied = browser.execute_script(
        "var e = new ClipboardEvent('copy', {bubbles: true, cancelable: true, clipboardData: new DataTransfer()});"
        "document.querySelector('.report dd').dispatchEvent(e); return e.defaultPrevented;")
    assert copied is True
    # On paper: the notice only.
    browser.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": "print"})
    assert not report.is_displayed()
    notice = browser.find_element(By.CSS_SELECTOR, "[data-testid=print-notice]")
    assert notice.is_displayed() and "不能打印" in notice.text
    browser.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": ""})
    assert report.is_displayed()


def answer_exam(browser, correctly):
    bank = {question["id"]: question for question in json.loads(BANK.read_text())["questions"]}
    browser.find_element(By.CSS_SELECTOR, "[data-testid=start-exam]").click()
    paper = wait(browser, expected_conditions.presence_of_element_located((By.CSS_SELECTOR, "[data-testid=exam-paper]")))
    for fieldset in paper.find_elements(By.CSS_SELECTOR, "fieldset.question"):
        question = bank[fieldset.get_attribute("data-question")]
        right = question["options"][question["answer"]]["zh"]
        labels = fieldset.find_elements(By.CSS_SELECTOR, "label.choice")
        chosen = next(label for label in labels if (label.text.strip() == right) == correctly)
        chosen.find_element(By.TAG_NAME, "input").click()
    browser.find_element(By.CSS_SELECTOR, "[data-testid=submit-exam]").click()


def test_from_a_new_unit_to_query_rights_in_the_browser(base_url, admin, artifacts):
    if os.environ.get("CREDITGATE_E2E_NO_BROWSER"):
        pytest.skip("chromium or chromedriver is not installed")
    browser = make_browser("zh-CN")
    try:
        sign_in(browser, base_url, admin["employeeId"], admin["password"])
        create_unit(browser, base_url, "E2E-BR", "端到端分行", "branch", "E2E-HO 端到端测试银行总行", "310101")
        create_unit(browser, base_url, "E2E-SB", "端到端支行", "sub_branch", "E2E-BR 端到端分行", "310115")
        passwords = {
            "E2E-CA1": open_account(browser, base_url, "E2E-CA1", "支行征信管理员", "E2E-SB 端到端支行", "credit_administrator"),
            "E2E-CA2": open_account(browser, base_url, "E2E-CA2", "分行征信管理员", "E2E-BR 端到端分行", "credit_administrator"),
            "E2E-LO": open_account(browser, base_url, "E2E-LO", "客户经理", "E2E-SB 端到端支行", "query_operator"),
            "E2E-AP": open_account(browser, base_url, "E2E-AP", "分行审批人", "E2E-BR 端到端分行", "approver"),
        }
        browser.save_screenshot(str(artifacts / "people-users.png"))
        sign_out(browser)

        sign_in(browser, base_url, "E2E-LO", passwords["E2E-LO"])
        assert browser.find_element(By.CSS_SELECTOR, "[data-testid=query-rights]").text == "未开通"
        browser.get(f"{base_url}/console/exam")
        answer_exam(browser, correctly=False)
        assert "未通过" in wait(browser, expected_conditions.presence_of_element_located((By.CSS_SELECTOR, "[data-testid=exam-failed]"))).text
        answer_exam(browser, correctly=True)
        assert "100" in wait(browser, expected_conditions.presence_of_element_located((By.CSS_SELECTOR, "[data-testid=exam-passed]"))).text
        browser.save_screenshot(str(artifacts / "people-exam.png"))
        sign_out(browser)

        for approver in ("E2E-CA1", "E2E-CA2"):
            sign_in(browser, base_url, approver, passwords[approver])
            browser.get(f"{base_url}/console/access-requests")
            request = wait(browser, expected_conditions.presence_of_element_located((By.CSS_SELECTOR, "[data-testid=access-request]")))
            assert "E2E-LO" in request.text
            request.find_element(By.CSS_SELECTOR, "[data-testid=approve]").click()
            wait(browser, expected_conditions.presence_of_element_located((By.CSS_SELECTOR, "[data-testid=action-done]")))
            sign_out(browser)

        sign_in(browser, base_url, "E2E-LO", passwords["E2E-LO"])
        assert browser.find_element(By.CSS_SELECTOR, "[data-testid=query-rights]").text == "已开通"
        browser.get(f"{base_url}/console/access-requests")
        assert "已批准" in browser.find_element(By.CSS_SELECTOR, "[data-testid=request-status]").text
        browser.save_screenshot(str(artifacts / "people-approved.png"))

        # With query rights: file the subject's written authorisation, then query with it.
        browser.get(f"{base_url}/console/consents")
        Select(browser.find_element(By.ID, "certificateType")).select_by_value("10")
        browser.find_element(By.ID, "certificateNumber").send_keys(SUBJECT_ID)
        browser.find_element(By.ID, "subjectName").send_keys("李四")
        browser.find_element(By.CSS_SELECTOR, "input[name=purposes][value='02']").click()
        set_date(browser, "signedOn", "2026-01-05")
        set_date(browser, "validUntil", "2099-12-31")
        scan = artifacts / "consent-scan.pdf"
        scan.write_bytes(b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n")
        browser.find_element(By.ID, "document").send_keys(str(scan))
        browser.find_element(By.CSS_SELECTOR, "[data-testid=file-consent]").click()
        consent_id = wait(browser, expected_conditions.presence_of_element_located((By.CSS_SELECTOR, "[data-testid=consent-id]"))).text
        browser.get(f"{base_url}/console/queries")
        Select(browser.find_element(By.ID, "consentId")).select_by_value(consent_id)
        Select(browser.find_element(By.ID, "certificateType")).select_by_value("10")
        browser.find_element(By.ID, "certificateNumber").send_keys(SUBJECT_ID)
        browser.find_element(By.ID, "subjectName").send_keys("李四")
        Select(browser.find_element(By.ID, "purpose")).select_by_value("02")
        browser.find_element(By.CSS_SELECTOR, "[data-testid=run-query]").click()
        # The subject's ID is from Beijing and the sub-branch in Shanghai: a cross-region query, which only a
        # supervisor's approval lets through (授权查询) — at any hour, so the path below is the same whenever it runs.
        headline = wait(browser, expected_conditions.presence_of_element_located((By.CSS_SELECTOR, "[data-testid=query-headline]")))
        assert "需经授权" in headline.text, browser.find_element(By.CSS_SELECTOR, "[data-testid=query-outcome]").text
        assert "所属地区" in browser.find_element(By.CSS_SELECTOR, "[data-testid=query-reasons]").text
        browser.save_screenshot(str(artifacts / "query-approval-needed.png"))

        # The approver watches the queue in a second browser; the request must appear there without a reload.
        approver_browser = make_browser("zh-CN")
        try:
            sign_in(approver_browser, base_url, "E2E-AP", passwords["E2E-AP"])
            approver_browser.get(f"{base_url}/console/exceptions")
            queue = approver_browser.find_element(By.CSS_SELECTOR, "[data-testid=exception-queue]")
            assert not queue.find_elements(By.CSS_SELECTOR, "[data-exception]")
            approver_browser.execute_script("window.__notReloaded = true")

            browser.find_element(By.ID, "justification").send_keys("客户在柜台等候，异地工作单位已核实")
            browser.find_element(By.CSS_SELECTOR, "[data-testid=request-exception]").click()
            wait(browser, expected_conditions.presence_of_element_located((By.CSS_SELECTOR, "[data-testid=exception-requested]")))
            assert "待审批" in browser.find_element(By.CSS_SELECTOR, "[data-testid=my-exceptions]").text

            row = WebDriverWait(approver_browser, 30, ignored_exceptions=(NoSuchElementException, StaleElementReferenceException)).until(
                lambda b: b.find_element(By.CSS_SELECTOR, "[data-testid=exception-queue] [data-exception]"))
            assert approver_browser.execute_script("return window.__notReloaded === true"), "the queue page was reloaded"
            assert "客户在柜台等候" in row.text and "客户经理" in row.text
            approver_browser.save_screenshot(str(artifacts / "exception-queue.png"))
            # Outside working hours the request is high-risk as well, and needs what was verified on site.
            on_site = row.find_elements(By.CSS_SELECTOR, "textarea[name=onSiteVerification]")
            if on_site:
                on_site[0].send_keys("已当面核实客户身份证原件与借款申请")
            row.find_element(By.CSS_SELECTOR, "[data-testid=approve-exception]").click()
            wait(approver_browser, expected_conditions.presence_of_element_located((By.CSS_SELECTOR, "[data-testid=action-done]")))
        finally:
            approver_browser.quit()

        # The officer's list shows the approval without a reload too; querying under it gets the report.
        button = wait(browser, expected_conditions.element_to_be_clickable((By.CSS_SELECTOR, "[data-testid=query-under-exception]")))
        assert "已批准" in browser.find_element(By.CSS_SELECTOR, "[data-testid=my-exceptions]").text
        button.click()
        wait(browser, lambda b: "已取得报告" in b.find_element(By.CSS_SELECTOR, "[data-testid=query-headline]").text)
        # The page never shows the report itself, and the identifier only masked.
        assert SUBJECT_ID not in browser.page_source
        browser.save_screenshot(str(artifacts / "query-allowed.png"))
        assert "已使用" in browser.find_element(By.CSS_SELECTOR, "[data-testid=my-exceptions]").text
        check_report_viewer(browser, artifacts)
        browser.get(f"{base_url}/console/queries")

        # Post-loan management without a loan in the register: refused, with the reason in words.
        Select(browser.find_element(By.ID, "consentId")).select_by_value(consent_id)
        browser.find_element(By.ID, "certificateNumber").send_keys(SUBJECT_ID)
        browser.find_element(By.ID, "subjectName").send_keys("李四")
        Select(browser.find_element(By.ID, "purpose")).select_by_value("01")
        browser.find_element(By.CSS_SELECTOR, "[data-testid=run-query]").click()
        # The page is replaced by the answer: wait for the refusal's words, not just for a list that was already there.
        wait(browser, lambda b: "贷款台账" in b.find_element(By.CSS_SELECTOR, "[data-testid=query-outcome]").text)
        reasons = browser.find_element(By.CSS_SELECTOR, "[data-testid=query-reasons]").text
        assert "贷款台账" in reasons and "未同意" in reasons, reasons
        browser.save_screenshot(str(artifacts / "query-refused.png"))
        sign_out(browser)
    finally:
        browser.quit()

    # Every step is in the audit log, and the log verifies (a compliance auditor reads it through the API).
    token = accounts.sign_in(base_url, admin["employeeId"], admin["password"])
    headers = {"Authorization": f"Bearer {token}"}
    units = requests.get(f"{base_url}/api/v1/organisations", headers=headers, timeout=10).json()["organisations"]
    head = next(unit for unit in units if unit.get("parentId") is None)
    opened = requests.post(f"{base_url}/api/v1/users", headers=headers, timeout=10, json={
        "employeeId": "E2E-AU", "displayName": "合规审计员", "organisationId": head["id"], "roles": ["compliance_auditor"]})
    assert opened.status_code == 201, opened.text
    auditor = accounts.sign_in(base_url, "E2E-AU", opened.json()["initialPassword"])
    auditor_headers = {"Authorization": f"Bearer {auditor}"}
    key = requests.get(f"{base_url}/api/v1/log/public-key", headers=auditor_headers, timeout=10).text
    verifier = LogVerifier(base_url, auditor, key)
    kinds = []
    for _ in range(100):
        intact, problems, size = verifier.verify()
        entries = requests.get(f"{base_url}/api/v1/log/entries?start=0&end={size}", headers=auditor_headers, timeout=30).json()["entries"]
        kinds = [entry["event"]["kind"] for entry in entries if entry.get("event")]
        if "query.answered" in kinds and kinds.count("query.decided") >= 3:
            break
        time.sleep(0.3)
    assert intact, problems
    for kind in ("consent.filed", "query.decided", "exception.requested", "exception.decided", "query.answered"):
        assert kind in kinds, kinds
    assert (kinds.index("consent.filed") < kinds.index("query.decided") < kinds.index("exception.requested")
            < kinds.index("exception.decided") < kinds.index("query.answered"))
