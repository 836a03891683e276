"""The audit log, checked from outside by an independent verifier (tests/e2e/logverifier.py) and by
`creditgate log verify`; both must accept the intact log and both must reject it after tampering."""
import sqlite3
import subprocess
import time

import requests

import accounts

from logverifier import LogVerifier, leaf_hash, node_hash, root, verify_consistency, verify_inclusion
from test_demo import ACCOUNT, free_port, run_demo, stop


def test_reference_vectors():
    leaves = [bytes.fromhex(x) for x in ["", "00", "10", "2021", "3031", "40414243", "5051525354555657",
                                         "606162636465666768696a6b6c6d6e6f"]]
    hashes = [leaf_hash(leaf) for leaf in leaves]
    assert root(hashes).hex() == "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"
    assert node_hash(hashes[0], hashes[1]).hex() == "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"
    proof = [bytes.fromhex(h) for h in ["96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
                                        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                                        "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"]]
    assert verify_inclusion(hashes[0], 0, 8, proof, root(hashes))
    assert verify_consistency(1, 8, root(hashes[:1]), root(hashes), proof)
    assert not verify_inclusion(hashes[1], 0, 8, proof, root(hashes))


def sign_in(port, employee_id, password):
    response = requests.post(f"http://127.0.0.1:{port}/api/v1/sessions",
                             json={"employeeId": employee_id, "password": password}, timeout=10)
    return response


def signed_in(port, realm, employee_id, password):
    """A token after the full sign-in (password, then the second factor, enrolled on first use)."""
    return accounts.sign_in(f"http://127.0.0.1:{port}", employee_id, password, realm=realm)


def test_both_verifiers_accept_the_log_and_reject_every_tampering(binary, tmp_path):
    port = free_port()
    first = run_demo(binary, tmp_path, port)
    printed = stop(first)
    printed_accounts = dict(ACCOUNT.findall(printed))
    demo = run_demo(binary, tmp_path, port)
    try:
        # Traffic: sign-ins, failures, refusals, all recorded.
        realm = str(tmp_path)
        for employee_id, password in printed_accounts.items():
            assert signed_in(port, realm, employee_id, password)
            assert sign_in(port, employee_id, "Not-the-password-9").status_code == 401
        token = signed_in(port, realm, "D0005", printed_accounts["D0005"])
        operator = signed_in(port, realm, "D0003", printed_accounts["D0003"])
        refused = requests.get(f"http://127.0.0.1:{port}/api/v1/log/entries?start=0&end=1",
                               headers={"Authorization": f"Bearer {operator}"}, timeout=10)
        assert refused.status_code == 403
        headers = {"Authorization": f"Bearer {token}"}
        key = requests.get(f"http://127.0.0.1:{port}/api/v1/log/public-key", headers=headers, timeout=10).text
        verifier = LogVerifier(f"http://127.0.0.1:{port}", token, key)

        # Wait for a checkpoint that covers the traffic above.
        expected = 6 + 6 * 2 + 2 + 1
        for _ in range(50):
            intact, problems, size = verifier.verify()
            if size >= expected:
                break
            time.sleep(0.2)
        assert intact, problems
        assert size >= expected
        cli = subprocess.run([binary, "log", "verify", "--url", f"http://127.0.0.1:{port}", f"--token={token}", "--key", key],
                             capture_output=True, text=True, timeout=60)
        assert cli.returncode == 0, cli.stdout + cli.stderr
        assert "INTACT" in cli.stdout

        # Tamper behind the application's back: every kind of edit is caught by both, and undoing it restores
        # an intact log.
        database = tmp_path / "creditgate-data" / "creditgate.sqlite"
        edits = [
            ["UPDATE audit_entries SET leaf = replace(leaf, '\"v\":1', '\"v\":2') WHERE idx = 8"],
            ["UPDATE audit_entries SET idx = idx + 1000000 WHERE idx = 4"],
            ["UPDATE audit_entries SET leaf_hash = 'abababababababababababababababababababababababababababababababab' WHERE idx = 2"],
            ["UPDATE audit_entries SET idx = 1000003 WHERE idx = 3", "UPDATE audit_entries SET idx = 3 WHERE idx = 5",
             "UPDATE audit_entries SET idx = 5 WHERE idx = 1000003"],
        ]
        for statements in edits:
            with sqlite3.connect(database) as connection:
                saved = connection.execute("SELECT idx, leaf, leaf_hash FROM audit_entries WHERE idx IN (2, 3, 4, 5, 8)").fetchall()
                for statement in statements:
                    connection.execute(statement)
            intact, problems, _ = verifier.verify()
            assert not intact, statements
            cli = subprocess.run([binary, "log", "verify", "--url", f"http://127.0.0.1:{port}", f"--token={token}", "--key", key],
                                 capture_output=True, text=True, timeout=60)
            assert cli.returncode == 1, statements
            assert "NOT INTACT" in cli.stdout
            with sqlite3.connect(database) as connection:
                connection.execute("DELETE FROM audit_entries WHERE idx IN (2, 3, 4, 5, 8) OR idx >= 1000000")
                connection.executemany("INSERT INTO audit_entries (idx, leaf, leaf_hash, kind, occurred_at) VALUES (?, ?, ?, 'restored', 0)", saved)
            intact, problems, _ = verifier.verify()
            assert intact, (statements, problems)
    finally:
        stop(demo)
