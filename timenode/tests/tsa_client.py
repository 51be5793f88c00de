"""rfc3161-client (PyPI, strict DER, chain to a root) against a node's POST /v1/tsa.

Usage: python tsa_client.py URL ROOT_PEM
Builds a SHA-256 request with a nonce and certReq, posts it, and verifies the reply against
the root: prints one JSON line {"status", "gen_time", "verified", "other_refused"}.
"""
import json
import sys
import urllib.request

import cryptography.x509 as x509
from rfc3161_client import (HashAlgorithm, TimestampRequestBuilder, VerificationError,
                            VerifierBuilder, decode_timestamp_response)

url, root_pem = sys.argv[1], sys.argv[2]
root = x509.load_pem_x509_certificate(open(root_pem, "rb").read())
data = b"stamped by rfc3161-client\n"
req = (TimestampRequestBuilder().data(data).hash_algorithm(HashAlgorithm.SHA256)
       .cert_request(cert_request=True).nonce(nonce=True).build())
http = urllib.request.Request(url, data=req.as_bytes(),
                              headers={"content-type": "application/timestamp-query"})
resp = decode_timestamp_response(urllib.request.urlopen(http, timeout=30).read())
verifier = VerifierBuilder.from_request(req).add_root_certificate(root).build()
verified = verifier.verify_message(resp, data)
try:
    verifier.verify_message(resp, b"another document\n")
    other_refused = False
except VerificationError:
    other_refused = True
print(json.dumps({
    "status": resp.status,
    "gen_time": resp.tst_info.gen_time.timestamp(),
    "verified": verified,
    "other_refused": other_refused,
}))
