"""The JSON API and operations endpoints, as an outside client sees them."""
import uuid

import requests

import accounts

PROBLEM = "application/problem+json"


def problem(response, status, code):
    assert response.status_code == status, response.text
    assert response.headers["Content-Type"].startswith(PROBLEM)
    body = response.json()
    assert body["type"] == f"urn:creditgate:problem:{code}"
    assert body["status"] == status
    assert body["titles"]["zh-CN"] and body["titles"]["en"]
    assert body["requestId"] == response.headers["X-Request-ID"]
    return body


def test_health_and_readiness(base_url):
    assert requests.get(f"{base_url}/healthz", timeout=5).json() == {"status": "ok"}
    ready = requests.get(f"{base_url}/readyz", timeout=5)
    assert ready.status_code == 200
    assert ready.json()["status"] == "ready"


def test_metrics_are_prometheus_text(base_url):
    requests.get(f"{base_url}/healthz", timeout=5)
    response = requests.get(f"{base_url}/metrics", timeout=5)
    assert response.headers["Content-Type"].startswith("text/plain")
    assert 'hb_requests{http_route="/healthz"' in response.text
    assert "creditgate_db_pool_connections_max" in response.text
    assert "process_resident_memory_bytes" in response.text


def test_unknown_routes_are_404_problems_in_both_languages(base_url):
    english = problem(requests.get(f"{base_url}/api/v1/{uuid.uuid4()}", headers={"Accept-Language": "en"}, timeout=5), 404, "not-found")
    assert english["title"] == "Not found"
    chinese = problem(requests.get(f"{base_url}/{uuid.uuid4()}", headers={"Accept-Language": "zh-CN"}, timeout=5), 404, "not-found")
    assert chinese["title"] == "未找到"


def test_bad_bodies_are_4xx_never_5xx(base_url):
    url = f"{base_url}/api/v1/sessions"
    problem(requests.post(url, data="{oops", headers={"Content-Type": "application/json"}, timeout=5), 400, "malformed-json")
    problem(requests.post(url, json={"employeeId": 7}, timeout=5), 400, "malformed-json")
    problem(requests.post(url, data="x" * (2 * 1024 * 1024), headers={"Content-Type": "application/json"}, timeout=10), 413, "payload-too-large")
    problem(requests.post(url, data="employeeId=x", headers={"Content-Type": "application/x-www-form-urlencoded"}, timeout=5), 415, "unsupported-media-type")


def test_sign_in_me_and_sign_out(base_url, admin):
    # Without the second factor the password alone opens nothing once one is enrolled.
    token = accounts.sign_in(base_url, admin["employeeId"], admin["password"])
    bare = requests.post(f"{base_url}/api/v1/sessions", json=admin, timeout=10)
    assert problem(bare, 401, "invalid-credentials")["detail"]
    headers = {"Authorization": f"Bearer {token}"}
    me = requests.get(f"{base_url}/api/v1/me", headers=headers, timeout=5).json()
    assert me["user"]["employeeId"] == admin["employeeId"]
    assert me["user"]["roles"] == ["system_administrator"]
    assert me["stage"] == "full"
    organisations = requests.get(f"{base_url}/api/v1/organisations", headers=headers, timeout=5).json()["organisations"]
    assert [unit["code"] for unit in organisations] == ["E2E-HO"]
    assert requests.delete(f"{base_url}/api/v1/sessions/current", headers=headers, timeout=5).status_code == 204
    problem(requests.get(f"{base_url}/api/v1/me", headers=headers, timeout=5), 401, "unauthenticated")


def test_wrong_password_and_unknown_user_are_indistinguishable(base_url, admin):
    wrong = requests.post(f"{base_url}/api/v1/sessions", json={**admin, "password": "Not-the-password-1"}, timeout=10)
    unknown = requests.post(f"{base_url}/api/v1/sessions", json={"employeeId": "NOBODY99", "password": "Not-the-password-1"}, timeout=10)
    first, second = problem(wrong, 401, "invalid-credentials"), problem(unknown, 401, "invalid-credentials")
    assert (first["title"], first.get("detail")) == (second["title"], second.get("detail"))


def test_strict_headers_everywhere(base_url):
    for path in ("/console/sign-in", "/api/v1/version", "/healthz", "/nowhere"):
        headers = requests.get(f"{base_url}{path}", timeout=5).headers
        csp = headers["Content-Security-Policy"]
        assert "frame-ancestors 'none'" in csp and "unsafe-inline" not in csp and "default-src 'none'" in csp
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["Referrer-Policy"] == "no-referrer"


def test_console_forms_refuse_missing_csrf_tokens(base_url, admin):
    response = requests.post(f"{base_url}/console/sign-in",
                             data={"employee_id": admin["employeeId"], "password": admin["password"]},
                             allow_redirects=False, timeout=10)
    assert response.status_code == 403
    assert "cg_session" not in response.cookies


def test_openapi_document_is_served(base_url):
    response = requests.get(f"{base_url}/api/v1/openapi.yaml", timeout=5)
    assert response.status_code == 200
    assert response.text.startswith("openapi: 3.1")
