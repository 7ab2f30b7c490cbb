"""A time-stamping service (RFC 3161) on 127.0.0.1 for the tests, built on pyHanko's
``DummyTimeStamper``, which signs every request with the certificate it is given."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from asn1crypto import keys as asn1_keys
from asn1crypto import tsp
from asn1crypto import x509 as asn1_x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from pyhanko.sign.timestamps import DummyTimeStamper

from zhixing.esign.tests.helpers import issue_from, self_signed_ca


@contextmanager
def running_tsa() -> Iterator[tuple[str, object]]:
    """Run a TSA on a free loopback port; yield its URL and the CA certificate that issued it."""
    ca, ca_key = self_signed_ca("Test TSA Root")
    # pyHanko's DummyTimeStamper signs with RSA keys only.
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    certificate, key = issue_from(ca, ca_key, "Test TSA", time_stamping=True, key=rsa_key)
    key_der = key.private_bytes(  # type: ignore[attr-defined]
        serialization.Encoding.DER,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    stamper = DummyTimeStamper(
        tsa_cert=asn1_x509.Certificate.load(certificate.public_bytes(serialization.Encoding.DER)),
        tsa_key=asn1_keys.PrivateKeyInfo.load(key_der),
    )

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            reply = stamper.request_tsa_response(tsp.TimeStampReq.load(body)).dump()
            self.send_response(200)
            self.send_header("Content-Type", "application/timestamp-reply")
            self.send_header("Content-Length", str(len(reply)))
            self.end_headers()
            self.wfile.write(reply)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/", ca
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
