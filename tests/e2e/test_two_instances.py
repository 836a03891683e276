"""Two `creditgate serve` instances on one PostgreSQL database write one audit log under concurrent load; the
independent verifier and `creditgate log verify` both accept it, and both reject it after a tampering."""
import os
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

import accounts

from logverifier import LogVerifier
from test_demo import free_port


def start_second_instance(binary):
    port = free_port()
    env = dict(os.environ, CREDITGATE_HTTP_PORT=str(port), CREDITGATE_HTTP_PUBLIC_BASE_URL=f"http://127.0.0.1:{port}")
    process = subprocess.Popen([binary, "serve"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(100):
        try:
            if requests.get(f"http://127.0.0.1:{port}/readyz", timeout=1).status_code == 200:
                return process, f"http://127.0.0.1:{port}"
        except requests.ConnectionError:
            pass
        time.sleep(0.2)
    process.terminate()
    raise AssertionError("second instance did not become ready")


def test_two_instances_one_log(base_url, admin, binary):
    database_url = os.environ.get("CREDITGATE_E2E_DATABASE_URL", "")
    if not database_url.startswith("postgres"):
        pytest.skip("needs the PostgreSQL end-to-end database")
    auditor = {"employeeId": os.environ["CREDITGATE_E2E_AUDITOR_ID"], "password": os.environ["CREDITGATE_E2E_AUDITOR_PASSWORD"]}
    second, second_url = start_second_instance(binary)
    try:
        # Refused sign-ins of unknown people, on both instances at once: each one is an audit event. (Real accounts
        # would lock after five failures, and each TOTP code is good once, so they cannot make this much traffic.)
        def traffic(number):
            url = base_url if number % 2 else second_url
            refused = []
            for attempt in range(2):
                response = requests.post(f"{url}/api/v1/sessions",
                                         json={"employeeId": f"GHOST{number:03d}{attempt}", "password": f"Wrong-{number}-pass"}, timeout=30)
                refused.append(response.status_code)
            return tuple(refused)

        with ThreadPoolExecutor(max_workers=16) as pool:
            results = list(pool.map(traffic, range(48)))
        assert all(result == (401, 401) for result in results), results

        token = accounts.sign_in(second_url, auditor["employeeId"], auditor["password"], realm=base_url)
        headers = {"Authorization": f"Bearer {token}"}
        size_now = None
        for _ in range(50):
            entries = requests.get(f"{base_url}/api/v1/log/checkpoints?from=0", headers=headers, timeout=10).json()["checkpoints"]
            size_now = entries[-1]["size"] if entries else 0
            if size_now >= 96:
                break
            time.sleep(0.2)
        assert size_now >= 96
        key = requests.get(f"{base_url}/api/v1/log/public-key", headers=headers, timeout=10).text
        for url in (base_url, second_url):
            intact, problems, size = LogVerifier(url, token, key).verify()
            assert intact, problems
            assert size >= 96
            cli = subprocess.run([binary, "log", "verify", "--url", url, f"--token={token}", "--key", key],
                                 capture_output=True, text=True, timeout=120)
            assert cli.returncode == 0, cli.stdout + cli.stderr

        # One edited entry, written straight into PostgreSQL, is caught by both verifiers.
        psql = ["psql", database_url.split("?")[0], "-q", "-v", "ON_ERROR_STOP=1", "-c"]
        subprocess.run(psql + ["UPDATE audit_entries SET leaf = replace(leaf, '\"v\":1', '\"v\":2') WHERE idx = 10"], check=True)
        try:
            intact, problems, _ = LogVerifier(base_url, token, key).verify()
            assert not intact
            cli = subprocess.run([binary, "log", "verify", "--url", base_url, f"--token={token}", "--key", key],
                                 capture_output=True, text=True, timeout=120)
            assert cli.returncode == 1 and "NOT INTACT" in cli.stdout
        finally:
            subprocess.run(psql + ["UPDATE audit_entries SET leaf = replace(leaf, '\"v\":2', '\"v\":1') WHERE idx = 10"], check=True)
        assert LogVerifier(base_url, token, key).verify()[0]
    finally:
        second.terminate()
        second.wait(timeout=30)
