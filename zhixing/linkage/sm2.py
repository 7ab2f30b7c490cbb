"""SM2 signatures with SM3 (GB/T 32918.2, GM/T 0003.2) for the gateway, on top of ``gmssl``.

The rest of the platform uses this module only, never ``gmssl`` itself, because gmssl 3.2.2
has pitfalls that this module works around:

- its nonce helper (``gmssl.func.random_hex``) draws from the non-cryptographic ``random``
  module, so every nonce here comes from :mod:`secrets`;
- its constructor strips every leading ``0`` and ``4`` character from a public key that starts
  with ``04`` (``str.lstrip("04")``), so the key attribute is set directly;
- its ``sign_with_sm3`` and ``verify_with_sm3`` hard-code the user ID ``1234567812345678``, so
  Z and e are computed here and passed to the plain ``sign`` and ``verify``;
- its ``verify`` does not check that r and s lie in [1, n-1], and it fails with an exception
  on some invalid inputs, so :func:`verify` checks the range itself and catches those errors.

SM3 runs through OpenSSL (``cryptography``'s ``hashes.SM3``) where the OpenSSL build has it,
because gmssl's pure-Python SM3 took 2 s for 200 KB (about 10 microseconds per byte) on the
benchmark machine (2 cores), and a batch body has hundreds of kilobytes. gmssl's SM3 is the
fallback.

NOTE: gmssl's point multiplication is pure Python and not constant-time, so a process that
shares the CPU with an attacker may leak timing information about the private key or the
nonce. A hardware token or an SM2 implementation in C is the production choice.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes
from gmssl import sm2 as gmssl_sm2
from gmssl import sm3 as gmssl_sm3

# The user ID when the parties agree on none; gmssl's ``sign_with_sm3`` hard-codes the same.
DEFAULT_USER_ID = b"1234567812345678"
# Length of r || s, and of x || y, in bytes on a 256-bit curve.
SIGNATURE_LENGTH = 64
PUBLIC_KEY_LENGTH = 64
# The prefix of an uncompressed point, "04" + x + y.
UNCOMPRESSED = "04"


@dataclass(frozen=True)
class Curve:
    """The parameters of a prime-field curve y² = x³ + ax + b with base point G of order n."""

    p: int
    a: int
    b: int
    gx: int
    gy: int
    n: int

    def gmssl_table(self) -> dict[str, str]:
        """Return the curve in the form of gmssl's ``ecc_table``: fixed-width hex strings."""
        return {
            "n": _hex(self.n),
            "p": _hex(self.p),
            "g": _hex(self.gx) + _hex(self.gy),
            "a": _hex(self.a),
            "b": _hex(self.b),
        }

    def contains(self, x: int, y: int) -> bool:
        """Return whether (x, y) is a point of the curve (the point at infinity is not)."""
        if not (0 <= x < self.p and 0 <= y < self.p):
            return False
        return (y * y - (x * x * x + self.a * x + self.b)) % self.p == 0


def _hex(value: int) -> str:
    return format(value, "064x")


def _curve_from_gmssl(table: dict[str, str]) -> Curve:
    return Curve(
        p=int(table["p"], 16),
        a=int(table["a"], 16),
        b=int(table["b"], 16),
        gx=int(table["g"][:64], 16),
        gy=int(table["g"][64:], 16),
        n=int(table["n"], 16),
    )


# The recommended 256-bit SM2 curve (sm2p256v1), as gmssl ships it.
RECOMMENDED_CURVE = _curve_from_gmssl(gmssl_sm2.default_ecc_table)


class SM2Error(ValueError):
    """Raised for an SM2 key or parameter that cannot be used, with the reason."""


def sm3(data: bytes) -> bytes:
    """Return the SM3 hash (GB/T 32905) of ``data``, 32 bytes."""
    try:
        digest = hashes.Hash(hashes.SM3())
    except UnsupportedAlgorithm:
        return sm3_pure_python(data)
    digest.update(data)
    return digest.finalize()


def sm3_pure_python(data: bytes) -> bytes:
    """Return the SM3 hash of ``data`` computed by gmssl, slowly; the fallback of :func:`sm3`."""
    return bytes.fromhex(gmssl_sm3.sm3_hash(list(data)))


def z_value(
    public_key: bytes, user_id: bytes = DEFAULT_USER_ID, curve: Curve = RECOMMENDED_CURVE
) -> bytes:
    """Return Z = SM3(ENTL || ID || a || b || xG || yG || xA || yA), the signer's identity hash.

    ``public_key`` is x || y of the signer's key (64 bytes). ENTL is the length of the user ID
    in bits as two bytes, so the ID has at most 8,191 bytes.
    """
    if len(user_id) * 8 > 0xFFFF:
        raise SM2Error(f"the user ID has {len(user_id)} bytes; SM2 allows at most 8191")
    _check_public_key(public_key, curve)
    entl = (len(user_id) * 8).to_bytes(2, "big")
    fields = (curve.a, curve.b, curve.gx, curve.gy)
    parameters = b"".join(value.to_bytes(32, "big") for value in fields)
    return sm3(entl + user_id + parameters + public_key)


def message_digest(
    public_key: bytes,
    message: bytes,
    user_id: bytes = DEFAULT_USER_ID,
    curve: Curve = RECOMMENDED_CURVE,
) -> bytes:
    """Return e = SM3(Z || M), the value that SM2 signs, of ``message`` by ``public_key``."""
    return sm3(z_value(public_key, user_id, curve) + message)


def _cipher(
    curve: Curve, private_key: int | None = None, public_key: bytes = b""
) -> gmssl_sm2.CryptSM2:
    cipher = gmssl_sm2.CryptSM2(
        private_key=_hex(private_key) if private_key is not None else "",
        public_key="",
        ecc_table=curve.gmssl_table(),
    )
    # Set here rather than in the constructor, which would strip leading 0 and 4 digits.
    cipher.public_key = public_key.hex()
    return cipher


def _check_public_key(public_key: bytes, curve: Curve) -> None:
    if len(public_key) != PUBLIC_KEY_LENGTH:
        raise SM2Error(
            f"an SM2 public key has {PUBLIC_KEY_LENGTH} bytes (x || y), not {len(public_key)}"
        )
    x = int.from_bytes(public_key[:32], "big")
    y = int.from_bytes(public_key[32:], "big")
    if not curve.contains(x, y):
        raise SM2Error("the SM2 public key is not a point of the curve")


def generate_private_key(curve: Curve = RECOMMENDED_CURVE) -> int:
    """Return a random private key d in [1, n-2], because signing inverts 1 + d modulo n."""
    return secrets.randbelow(curve.n - 2) + 1


def public_key_of(private_key: int, curve: Curve = RECOMMENDED_CURVE) -> bytes:
    """Return the public key [d]G of ``private_key`` as x || y (64 bytes)."""
    if not 1 <= private_key <= curve.n - 2:
        raise SM2Error("an SM2 private key lies in [1, n-2]")
    point = _cipher(curve)._kg(private_key, curve.gmssl_table()["g"])
    return bytes.fromhex(point)


def encode_public_key(public_key: bytes) -> str:
    """Return the text form of a public key: ``04`` and x || y in hexadecimal (130 digits)."""
    return UNCOMPRESSED + public_key.hex()


def decode_public_key(text: str, curve: Curve = RECOMMENDED_CURVE) -> bytes:
    """Return x || y from the text form ``04`` + 128 hexadecimal digits; raise SM2Error."""
    text = text.strip()
    if len(text) != 2 + 2 * PUBLIC_KEY_LENGTH or not text.startswith(UNCOMPRESSED):
        raise SM2Error("an SM2 public key is written as 04 followed by 128 hexadecimal digits")
    try:
        public_key = bytes.fromhex(text[2:])
    except ValueError:
        raise SM2Error("the SM2 public key is not hexadecimal") from None
    _check_public_key(public_key, curve)
    return public_key


def sign_digest(
    private_key: int, digest: bytes, curve: Curve = RECOMMENDED_CURVE, *, nonce: int | None = None
) -> bytes:
    """Sign the 32-byte value e with ``private_key``; return r || s (64 bytes).

    ``nonce`` fixes k, for the known-answer tests only. Without it each attempt draws k from
    :mod:`secrets` and draws again in the rare case that r = 0, r + k = n or s = 0.
    """
    if len(digest) != 32:
        raise SM2Error(f"SM2 signs a 32-byte digest, not {len(digest)} bytes")
    cipher = _cipher(curve, private_key)
    while True:
        k = nonce if nonce is not None else secrets.randbelow(curve.n - 1) + 1
        if not 1 <= k < curve.n:
            raise SM2Error("the nonce k lies in [1, n-1]")
        result = cipher.sign(digest, _hex(k))
        if result is not None:
            return bytes.fromhex(result)
        if nonce is not None:
            raise SM2Error("this nonce gives r = 0, r + k = n or s = 0; choose another")


def sign(
    private_key: int,
    public_key: bytes,
    message: bytes,
    user_id: bytes = DEFAULT_USER_ID,
    curve: Curve = RECOMMENDED_CURVE,
) -> bytes:
    """Sign ``message`` with SM2 and SM3 as GB/T 32918.2 section 6 describes; return r || s."""
    return sign_digest(private_key, message_digest(public_key, message, user_id, curve), curve)


def verify(
    public_key: bytes,
    message: bytes,
    signature: bytes,
    user_id: bytes = DEFAULT_USER_ID,
    curve: Curve = RECOMMENDED_CURVE,
) -> bool:
    """Return whether ``signature`` (r || s) is a valid SM2 signature of ``message``."""
    if len(signature) != SIGNATURE_LENGTH:
        return False
    r = int.from_bytes(signature[:32], "big")
    s = int.from_bytes(signature[32:], "big")
    # gmssl would treat s = 0 as s = 1, because its point multiplication returns G for 0.
    if not (1 <= r < curve.n and 1 <= s < curve.n):
        return False
    try:
        digest = message_digest(public_key, message, user_id, curve)
        return bool(_cipher(curve, public_key=public_key).verify(signature.hex(), digest))
    except SM2Error:
        return False
    except (TypeError, ValueError, ZeroDivisionError):
        # gmssl fails this way when a sum of points is the point at infinity.
        return False
