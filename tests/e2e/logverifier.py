"""An independent verifier of CreditGate's audit log, written from RFC 6962/9162 and the C2SP signed-note and
tlog-checkpoint specifications. It shares no code with the server: two implementations agreeing is the point."""
import base64
import hashlib
import json

import requests
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey


def leaf_hash(data):
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left, right):
    return hashlib.sha256(b"\x01" + left + right).digest()


def root(hashes):
    """RFC 6962 MTH over leaf hashes."""
    if not hashes:
        return hashlib.sha256(b"").digest()
    if len(hashes) == 1:
        return hashes[0]
    k = 1
    while k * 2 < len(hashes):
        k *= 2
    return node_hash(root(hashes[:k]), root(hashes[k:]))


def verify_inclusion(leaf, index, size, proof, expected_root):
    """RFC 9162 §2.1.3.2."""
    if index >= size:
        return False
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == expected_root


def verify_consistency(first, second, first_root, second_root, proof):
    """RFC 9162 §2.1.4.2."""
    if first == second:
        return not proof and first_root == second_root
    if first == 0 or first > second or not proof:
        return False
    if first & (first - 1) == 0:
        proof = [first_root] + list(proof)
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = proof[0]
    for c in proof[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr, sr = node_hash(c, fr), node_hash(c, sr)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    return sn == 0 and fr == first_root and sr == second_root


def parse_verifier_key(text):
    name, key_id, blob = text.strip().split("+", 2)
    raw = base64.b64decode(blob)
    assert raw[0] == 1 and len(raw) == 33, "not an Ed25519 verifier key"
    computed = hashlib.sha256(name.encode() + b"\n" + raw).digest()[:4]
    assert computed.hex() == key_id, "key ID does not match"
    return name, computed, Ed25519PublicKey.from_public_bytes(raw[1:])


def open_note(note, key):
    """Returns the checkpoint (origin, size, root) if the note carries a valid signature by `key`, else None."""
    name, key_id, public = key
    body, _, signatures = note.rpartition("\n\n")
    body += "\n"
    for line in signatures.splitlines():
        prefix = f"\u2014 {name} "
        if not line.startswith(prefix):
            continue
        blob = base64.b64decode(line[len(prefix):])
        if blob[:4] != key_id:
            continue
        try:
            public.verify(blob[4:], body.encode())
        except InvalidSignature:
            continue
        origin, size, root_b64 = body.split("\n")[:3]
        return origin, int(size), base64.b64decode(root_b64)
    return None


def canonical(event):
    return json.dumps(event, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


class LogVerifier:
    def __init__(self, base_url, token, verifier_key):
        self.base = base_url.rstrip("/")
        self.headers = {"Authorization": f"Bearer {token}"}
        self.key = parse_verifier_key(verifier_key)

    def get(self, path):
        response = requests.get(self.base + path, headers=self.headers, timeout=30)
        response.raise_for_status()
        return response

    def verify(self):
        """Returns (intact, problems, size)."""
        problems = []
        notes = self.get("/api/v1/log/checkpoints?from=0").json()["checkpoints"]
        heads = []
        for item in notes:
            head = open_note(item["note"], self.key)
            if head is None or head[1] != item["size"]:
                problems.append(f"checkpoint {item['size']} is not validly signed")
                continue
            heads.append(head)
        for (_, a, root_a), (_, b, root_b) in zip(heads, heads[1:]):
            if a == 0 or a == b:
                continue
            proof = [base64.b64decode(h) for h in self.get(f"/api/v1/log/proof/consistency?from={a}&to={b}").json()["hashes"]]
            if not verify_consistency(a, b, root_a, root_b, proof):
                problems.append(f"checkpoint {b} does not extend checkpoint {a}")
        size = heads[-1][1] if heads else 0
        hashes = []
        for start in range(0, size, 1000):
            for entry in self.get(f"/api/v1/log/entries?start={start}&end={min(size, start + 1000)}").json()["entries"]:
                stored = base64.b64decode(entry["leafHash"])
                if entry.get("leaf") is not None:
                    leaf = base64.b64decode(entry["leaf"])
                    if leaf_hash(leaf) != stored:
                        problems.append(f"entry {entry['index']}: content does not match its hash")
                    if canonical(json.loads(leaf)) != leaf:
                        problems.append(f"entry {entry['index']}: not canonical JSON")
                    if entry.get("event") != json.loads(leaf):
                        problems.append(f"entry {entry['index']}: decoded event differs from its bytes")
                hashes.append(stored)
        if len(hashes) != size:
            problems.append(f"the log holds {len(hashes)} readable entries below the signed size {size}")
        for _, head_size, head_root in heads:
            if root(hashes[:head_size]) != head_root:
                problems.append(f"entries do not produce the root signed at size {head_size}")
        # Spot-check inclusion proofs against the latest signed root.
        for index in range(0, min(size, len(hashes)), max(1, size // 7)):
            proof = [base64.b64decode(h) for h in self.get(f"/api/v1/log/proof/inclusion?index={index}&size={size}").json()["hashes"]]
            if not verify_inclusion(hashes[index], index, size, proof, heads[-1][2]):
                problems.append(f"inclusion proof of entry {index} does not verify")
        return not problems, problems, size
