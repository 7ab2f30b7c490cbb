"""Verification of SM2 signatures with SM3 (GB/T 32918.2), as an agency checks a court's.

The simulator runs without the platform's code, so this module has its own small use of the
``gmssl`` package (3.2.2). It avoids gmssl's ``verify_with_sm3``, whose user ID is fixed, and
its constructor, which mangles public keys that start with ``04``. SM3 runs through OpenSSL
(``cryptography``) where available, because gmssl's pure-Python SM3 is about a thousand times
slower on large bodies.
"""

from __future__ import annotations

from dataclasses import dataclass

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes
from gmssl import sm2 as gmssl_sm2
from gmssl import sm3 as gmssl_sm3

DEFAULT_USER_ID = b"1234567812345678"


@dataclass(frozen=True)
class CurveParameters:
    """A curve y² = x³ + ax + b over GF(p) with base point (gx, gy) of order n."""

    p: int
    a: int
    b: int
    gx: int
    gy: int
    n: int

    @classmethod
    def from_gmssl(cls, table: dict[str, str]) -> CurveParameters:
        half = len(table["g"]) // 2
        return cls(
            p=int(table["p"], 16),
            a=int(table["a"], 16),
            b=int(table["b"], 16),
            gx=int(table["g"][:half], 16),
            gy=int(table["g"][half:], 16),
            n=int(table["n"], 16),
        )

    def as_gmssl(self) -> dict[str, str]:
        def digits(value: int) -> str:
            return f"{value:064x}"

        return {
            "p": digits(self.p),
            "a": digits(self.a),
            "b": digits(self.b),
            "n": digits(self.n),
            "g": digits(self.gx) + digits(self.gy),
        }


# The recommended 256-bit SM2 curve (sm2p256v1), as gmssl ships it.
SM2P256V1 = CurveParameters.from_gmssl(gmssl_sm2.default_ecc_table)


class InvalidKey(ValueError):
    """A public key that is not an SM2 point, with the reason."""


def hash_sm3(data: bytes) -> bytes:
    try:
        hasher = hashes.Hash(hashes.SM3())
    except UnsupportedAlgorithm:
        return bytes.fromhex(gmssl_sm3.sm3_hash(list(data)))
    hasher.update(data)
    return hasher.finalize()


def parse_public_key(text: str, curve: CurveParameters = SM2P256V1) -> tuple[int, int]:
    """Return (x, y) from ``04`` followed by 128 hexadecimal digits, checked to lie on the curve."""
    text = text.strip()
    if len(text) != 130 or text[:2] != "04":
        raise InvalidKey("expected 04 followed by 128 hexadecimal digits")
    try:
        x, y = int(text[2:66], 16), int(text[66:], 16)
    except ValueError:
        raise InvalidKey("not hexadecimal") from None
    on_curve = (y * y - x * x * x - curve.a * x - curve.b) % curve.p == 0
    if not (x < curve.p and y < curve.p and on_curve):
        raise InvalidKey("the point is not on the SM2 curve")
    return x, y


def signer_digest(
    point: tuple[int, int],
    message: bytes,
    user_id: bytes = DEFAULT_USER_ID,
    curve: CurveParameters = SM2P256V1,
) -> tuple[bytes, bytes]:
    """Return (Z, e): the signer's identity hash and SM3(Z || message), which SM2 signs."""
    identity = b"".join(
        value.to_bytes(32, "big")
        for value in (curve.a, curve.b, curve.gx, curve.gy, point[0], point[1])
    )
    z = hash_sm3((8 * len(user_id)).to_bytes(2, "big") + user_id + identity)
    return z, hash_sm3(z + message)


def verify(
    point: tuple[int, int],
    message: bytes,
    signature: bytes,
    user_id: bytes = DEFAULT_USER_ID,
    curve: CurveParameters = SM2P256V1,
) -> bool:
    """Return whether ``signature`` (r || s, 64 bytes) signs ``message`` under ``point``."""
    if len(signature) != 64:
        return False
    r, s = int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big")
    if not (0 < r < curve.n and 0 < s < curve.n):
        return False
    _z, e = signer_digest(point, message, user_id, curve)
    checker = gmssl_sm2.CryptSM2(private_key="", public_key="", ecc_table=curve.as_gmssl())
    checker.public_key = f"{point[0]:064x}{point[1]:064x}"
    try:
        return bool(checker.verify(signature.hex(), e))
    except (TypeError, ValueError, ZeroDivisionError):
        # gmssl's point arithmetic fails this way when a sum is the point at infinity.
        return False
