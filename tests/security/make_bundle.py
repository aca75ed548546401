#!/usr/bin/python3
# make_bundle.py: writes an OpenSSF model-signing bundle (sigstore bundle
# JSON, DSSE envelope, in-toto statement) for test files, signed with ECDSA
# P-256 / SHA-256 by python3-cryptography, the way model_signing's
# "key" signer does. Options make the variants the tests need.
#   make_bundle.py --key K.pem --out B.sig [options] FILE...
import argparse, base64, hashlib, json, sys
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

ap = argparse.ArgumentParser()
ap.add_argument("--key", required=True)
ap.add_argument("--hint-key", help="name this key's hint instead of the signer's")
ap.add_argument("--out", required=True)
ap.add_argument("--predicate", default="v1", choices=["v1", "v0.1", "other"])
ap.add_argument("--no-hint", action="store_true")
ap.add_argument("--raw-sig", action="store_true", help="64-byte r||s as WebCrypto writes")
ap.add_argument("--bad-root", action="store_true", help="a subject digest that does not match")
ap.add_argument("--method", default="files")
ap.add_argument("--statement-type", default="https://in-toto.io/Statement/v1")
ap.add_argument("--payload-type", default="application/vnd.in-toto+json")
ap.add_argument("--tamper-payload", action="store_true", help="change the statement after signing")
ap.add_argument("--tamper-sig", action="store_true")
ap.add_argument("--digest", action="append", default=[], help="NAME=HEX listed instead of a file")
ap.add_argument("files", nargs="*")
a = ap.parse_args()

def load(p):
    return serialization.load_pem_private_key(open(p, "rb").read(), None)

key = load(a.key)
items = []
for f in a.files:
    items.append((f.split("/")[-1], hashlib.sha256(open(f, "rb").read()).hexdigest()))
for d in a.digest:
    n, h = d.split("=", 1)
    items.append((n, h))
items.sort()

if a.predicate == "v1":
    root = hashlib.sha256(b"".join(bytes.fromhex(h) for _, h in items)).hexdigest()
    if a.bad_root:
        root = hashlib.sha256(b"not the resources").hexdigest()
    statement = {
        "_type": a.statement_type,
        "subject": [{"name": "model", "digest": {"sha256": root}}],
        "predicateType": "https://model_signing/signature/v1.0",
        "predicate": {
            "serialization": {"method": a.method, "hash_type": "sha256", "allow_symlinks": False,
                              "ignore_paths": []},
            "resources": [{"name": n, "algorithm": "sha256", "digest": h} for n, h in items],
        },
    }
else:
    statement = {
        "_type": a.statement_type,
        "subject": [{"name": n, "digest": {"sha256": h},
                     "annotations": {"actual_hash_algorithm": "file-sha256"}} for n, h in items],
        "predicateType": "https://model_signing/Digests/v0.1" if a.predicate == "v0.1"
                         else "https://example.com/other/v1",
        "predicate": {"unused": "Unused, just passed due to API requirements"},
    }
payload = json.dumps(statement, indent=2).encode()
ptype = a.payload_type.encode()
pae = b"DSSEv1 %d %s %d %s" % (len(ptype), ptype, len(payload), payload)
sig = key.sign(pae, ec.ECDSA(hashes.SHA256()))
if a.raw_sig:
    r, s = decode_dss_signature(sig)
    sig = r.to_bytes(32, "big") + s.to_bytes(32, "big")
if a.tamper_sig:
    sig = bytearray(sig); sig[-3] ^= 0x01; sig = bytes(sig)
if a.tamper_payload:
    payload = payload.replace(b'"sha256"', b'"sha256" ', 1)
hint_key = load(a.hint_key) if a.hint_key else key
pem = hint_key.public_key().public_bytes(serialization.Encoding.PEM,
                                         serialization.PublicFormat.SubjectPublicKeyInfo)
vm = {"tlogEntries": []}
if not a.no_hint:
    vm["publicKey"] = {"hint": hashlib.sha256(pem).hexdigest()}
bundle = {
    "mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json",
    "verificationMaterial": vm,
    "dsseEnvelope": {
        "payload": base64.b64encode(payload).decode(),
        "payloadType": a.payload_type,
        "signatures": [{"sig": base64.b64encode(sig).decode(), "keyid": ""}],
    },
}
open(a.out, "w").write(json.dumps(bundle, indent=2))
