"""Signing in as a real client does: password, then whatever set-up the account still needs (a new password, a TOTP
second factor enrolled from the secret the server shows), then a fresh TOTP code at every later sign-in.

CreditGate accepts each TOTP time step once per account, so the secrets and the last step used are kept in a small
file shared by every process of one test run (pytest, then schemathesis's token), keyed by a realm (the database the
account lives in) and the employee ID. Run as `python accounts.py token <base_url> <employee_id> <password>` to print
a bearer token.
"""
import fcntl
import json
import os
import pathlib
import sys
import time

import pyotp
import requests

STORE = pathlib.Path(os.environ.get("CREDITGATE_E2E_ARTIFACTS", "/tmp/creditgate-e2e-artifacts")) / "totp-secrets.json"


def _locked(update):
    """Reads the store, lets `update` change it, writes it back, under an exclusive lock."""
    STORE.parent.mkdir(parents=True, exist_ok=True)
    with open(STORE.with_suffix(".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        data = json.loads(STORE.read_text()) if STORE.exists() else {}
        result = update(data)
        STORE.write_text(json.dumps(data))
        os.chmod(STORE, 0o600)
        return result


def _key(realm, employee_id):
    return f"{realm}|{employee_id.upper()}"


def remember(realm, employee_id, **values):
    _locked(lambda data: data.setdefault(_key(realm, employee_id), {}).update(values))


def entry(realm, employee_id):
    return _locked(lambda data: dict(data.get(_key(realm, employee_id), {})))


def next_code(realm, employee_id):
    """A code for a time step not used before by this account: the current step, or the next one (accepted as the
    clock's tolerance), waiting for the clock when both were used."""
    def take(data):
        account = data[_key(realm, employee_id)]
        now = int(time.time() // 30)
        step = max(now, account.get("last_step", -1) + 1)
        account["last_step"] = step
        return account["secret"], step
    secret, step = _locked(take)
    while int(time.time() // 30) < step - 1:
        time.sleep(0.5)
    return pyotp.TOTP(secret).at(step * 30)


def password_of(realm, employee_id, initial):
    return entry(realm, employee_id).get("password", initial)


def sign_in(base_url, employee_id, password, realm=None):
    """Signs in through the API, finishing any set-up; returns the bearer token. The password in force (changed if
    the account required it) is remembered, so later calls may pass the initial one."""
    realm = realm or base_url
    password = password_of(realm, employee_id, password)
    body = {"employeeId": employee_id, "password": password}
    if entry(realm, employee_id).get("secret"):
        body["code"] = next_code(realm, employee_id)
    response = requests.post(f"{base_url}/api/v1/sessions", json=body, timeout=30)
    assert response.status_code == 201, response.text
    token = response.json()["token"]
    headers = {"Authorization": f"Bearer {token}"}
    stage = response.json()["stage"]
    if stage == "password_change":
        new = f"{password[:20]}-Nx{int(time.time()) % 10000}"
        changed = requests.post(f"{base_url}/api/v1/me/password", headers=headers,
                                json={"currentPassword": password, "newPassword": new}, timeout=30)
        assert changed.status_code == 200, changed.text
        remember(realm, employee_id, password=new)
        stage = changed.json()["stage"]
    if stage == "second_factor_enrolment":
        enrolment = requests.post(f"{base_url}/api/v1/me/second-factor", headers=headers, timeout=30)
        assert enrolment.status_code == 201, enrolment.text
        remember(realm, employee_id, secret=enrolment.json()["secret"], last_step=-1)
        confirmed = requests.post(f"{base_url}/api/v1/me/second-factor/confirmation", headers=headers,
                                  json={"code": next_code(realm, employee_id)}, timeout=30)
        assert confirmed.status_code == 200, confirmed.text
        stage = confirmed.json()["stage"]
    assert stage == "full", stage
    return token


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "token":
        print(sign_in(sys.argv[2].rstrip("/"), sys.argv[3], sys.argv[4]))
    else:
        sys.exit("usage: accounts.py token <base_url> <employee_id> <password>")
