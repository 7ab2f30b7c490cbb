"""Private keys on a hardware token (PKCS#11), chosen by configuration for production.

Set ``ZHIXING_PKCS11_MODULE`` to the token's PKCS#11 library (for example
``/usr/lib/softhsm/libsofthsm2.so`` for SoftHSM, or the vendor's library of a USB key or HSM),
``ZHIXING_PKCS11_TOKEN`` to the token label and ``ZHIXING_PKCS11_PIN`` to the user PIN. Then
``zhixing pki token --court CODE --key-label LABEL`` records the token's key for that court:
the certificate stored on the token under the same label if there is one, otherwise a
certificate that the platform's root CA issues for the token's public key. From then on the
court's seals are signed on the token through pyHanko's PKCS#11 signer, and the private key
never leaves it.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from zhixing.esign import conf

logger = logging.getLogger(__name__)


class TokenError(Exception):
    """Raised when the configured PKCS#11 token cannot be opened or lacks the named key."""


@contextmanager
def open_session() -> Iterator[Any]:
    """Open a logged-in session on the configured token and close it afterwards."""
    module = conf.pkcs11_module()
    if not module:
        raise TokenError(
            "No PKCS#11 module is configured; set ZHIXING_PKCS11_MODULE to the token's "
            "library, e.g. /usr/lib/softhsm/libsofthsm2.so."
        )
    from pkcs11 import PKCS11Error
    from pyhanko.config.pkcs11 import TokenCriteria
    from pyhanko.sign import pkcs11 as pyhanko_pkcs11

    label = conf.pkcs11_token_label()
    try:
        session = pyhanko_pkcs11.open_pkcs11_session(
            module,
            token_criteria=TokenCriteria(label=label) if label else None,
            user_pin=conf.pkcs11_pin() or None,
        )
    except PKCS11Error as error:
        raise TokenError(
            f"The PKCS#11 token {label!r} in {module} cannot be opened ({error!r}); check "
            "ZHIXING_PKCS11_TOKEN and ZHIXING_PKCS11_PIN."
        ) from error
    try:
        yield session
    finally:
        session.close()


def read_key(session: Any, key_label: str) -> tuple[x509.Certificate | None, Any]:
    """Return the certificate stored under ``key_label`` (or None) and the public key."""
    from pkcs11 import Attribute, KeyType, ObjectClass
    from pkcs11.exceptions import MultipleObjectsReturned, NoSuchKey
    from pkcs11.util.ec import encode_ec_public_key
    from pkcs11.util.rsa import encode_rsa_public_key

    certificate = None
    for found in session.get_objects(
        {Attribute.CLASS: ObjectClass.CERTIFICATE, Attribute.LABEL: key_label}
    ):
        certificate = x509.load_der_x509_certificate(bytes(found[Attribute.VALUE]))
        break
    try:
        public = session.get_key(object_class=ObjectClass.PUBLIC_KEY, label=key_label)
    except (NoSuchKey, MultipleObjectsReturned) as error:
        if certificate is not None:
            return certificate, certificate.public_key()
        raise TokenError(
            f"The token has no single public key labelled {key_label!r}; give the label "
            "of the key pair that the seal should use."
        ) from error
    if public.key_type == KeyType.EC:
        public_key: Any = serialization.load_der_public_key(encode_ec_public_key(public))
    elif public.key_type == KeyType.RSA:
        from asn1crypto import keys as asn1_keys

        pkcs1 = asn1_keys.RSAPublicKey.load(encode_rsa_public_key(public))
        public_key = rsa.RSAPublicNumbers(
            pkcs1["public_exponent"].native, pkcs1["modulus"].native
        ).public_key()
    else:
        raise TokenError(f"The key {key_label!r} on the token is neither ECDSA nor RSA.")
    return certificate, public_key
