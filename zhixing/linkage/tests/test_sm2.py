"""SM2 with SM3 against the published examples, and round trips on the recommended curve.

Sources of the known answers:

- SM3: examples 1 and 2 of the SM3 standard (GB/T 32905-2016, Annex A): "abc" and the 64 bytes
  "abcd" repeated 16 times.
- SM2: the digital signature example of GM/T 0003.2-2012 Annex A (GB/T 32918.2), published in
  English in draft-shen-sm2-ecdsa-02, Appendix A.2, "Example 1: Fp-256". It uses a test
  curve, the user ID ALICE123@YAHOO.COM, the message "message digest" and a fixed nonce k.
"""

from __future__ import annotations

import pytest

from agency_simulator import sm2 as simulator_sm2
from zhixing.linkage import sm2


def number(text: str) -> int:
    return int(text.replace(" ", ""), 16)


# The test curve and key of the SM2 example.
TEST_CURVE = sm2.Curve(
    p=number("8542D69E 4C044F18 E8B92435 BF6FF7DE 45728391 5C45517D 722EDB8B 08F1DFC3"),
    a=number("787968B4 FA32C3FD 2417842E 73BBFEFF 2F3C848B 6831D7E0 EC65228B 3937E498"),
    b=number("63E4C6D3 B23B0C84 9CF84241 484BFE48 F61D59A5 B16BA06E 6E12D1DA 27C5249A"),
    gx=number("421DEBD6 1B62EAB6 746434EB C3CC315E 32220B3B ADD50BDC 4C4E6C14 7FEDD43D"),
    gy=number("0680512B CBB42C07 D47349D2 153B70C4 E5D7FDFC BFA36EA1 A85841B9 E46E09A2"),
    n=number("8542D69E 4C044F18 E8B92435 BF6FF7DD 29772063 0485628D 5AE74EE7 C32E79B7"),
)
PRIVATE_KEY = number("128B2FA8 BD433C6C 068C8D80 3DFF7979 2A519A55 171B1B65 0C23661D 15897263")
PUBLIC_X = "0AE4C779 8AA0F119 471BEE11 825BE462 02BB79E2 A5844495 E97C04FF 4DF2548A"
PUBLIC_Y = "7C0240F8 8F1CD4E1 6352A73C 17B7F16F 07353E53 A176D684 A9FE0C6B B798E857"
PUBLIC_KEY = bytes.fromhex((PUBLIC_X + PUBLIC_Y).replace(" ", ""))
USER_ID = b"ALICE123@YAHOO.COM"
MESSAGE = b"message digest"
Z = "F4A38489 E32B45B6 F876E3AC 2168CA39 2362DC8F 23459C1D 1146FC3D BFB7BC9A"
E = "B524F552 CD82B8B0 28476E00 5C377FB1 9A87E6FC 682D48BB 5D42E3D9 B9EFFE76"
NONCE = number("6CB28D99 385C175C 94F94E93 4817663F C176D925 DD72B727 260DBAAE 1FB2F96F")
R = "40F1EC59 F793D9F4 9E09DCEF 49130D41 94F79FB1 EED2CAA5 5BACDB49 C4E755D1"
S = "6FC6DAC3 2C5D5CF1 0C77DFB2 0F7C2EB6 67A45787 2FB09EC5 6327A67E C7DEEBE7"
SIGNATURE = bytes.fromhex((R + S).replace(" ", ""))

SM3_VECTORS = [
    (b"abc", "66c7f0f4 62eeedd9 d1f2d46b dc10e4e2 4167c487 5cf2f7a2 297da02b 8f4ba8e0"),
    (b"abcd" * 16, "debe9ff9 2275b8a1 38604889 c18e5a4d 6fdb70e5 387e5765 293dcba3 9c0c5732"),
]


@pytest.mark.parametrize(("message", "expected"), SM3_VECTORS)
def test_sm3_known_answers(message, expected):
    digest = bytes.fromhex(expected.replace(" ", ""))

    assert sm2.sm3(message) == digest
    assert sm2.sm3_pure_python(message) == digest
    assert simulator_sm2.hash_sm3(message) == digest


def test_example_public_key_from_private_key():
    assert sm2.public_key_of(PRIVATE_KEY, TEST_CURVE) == PUBLIC_KEY


def test_example_z_value():
    assert sm2.z_value(PUBLIC_KEY, USER_ID, TEST_CURVE).hex().upper() == Z.replace(" ", "")


def test_example_message_digest():
    digest = sm2.message_digest(PUBLIC_KEY, MESSAGE, USER_ID, TEST_CURVE)

    assert digest.hex().upper() == E.replace(" ", "")


def test_example_signature_with_fixed_nonce():
    digest = sm2.message_digest(PUBLIC_KEY, MESSAGE, USER_ID, TEST_CURVE)

    signature = sm2.sign_digest(PRIVATE_KEY, digest, TEST_CURVE, nonce=NONCE)

    assert signature[:32].hex().upper() == R.replace(" ", "")
    assert signature[32:].hex().upper() == S.replace(" ", "")


def test_example_signature_verifies():
    assert sm2.verify(PUBLIC_KEY, MESSAGE, SIGNATURE, USER_ID, TEST_CURVE)
    assert not sm2.verify(PUBLIC_KEY, MESSAGE + b".", SIGNATURE, USER_ID, TEST_CURVE)
    assert not sm2.verify(PUBLIC_KEY, MESSAGE, SIGNATURE, sm2.DEFAULT_USER_ID, TEST_CURVE)


def test_simulator_verifies_example():
    curve = simulator_sm2.CurveParameters(
        p=TEST_CURVE.p,
        a=TEST_CURVE.a,
        b=TEST_CURVE.b,
        gx=TEST_CURVE.gx,
        gy=TEST_CURVE.gy,
        n=TEST_CURVE.n,
    )
    point = simulator_sm2.parse_public_key("04" + PUBLIC_KEY.hex(), curve)

    z, e = simulator_sm2.signer_digest(point, MESSAGE, USER_ID, curve)

    assert z.hex().upper() == Z.replace(" ", "")
    assert e.hex().upper() == E.replace(" ", "")
    assert simulator_sm2.verify(point, MESSAGE, SIGNATURE, USER_ID, curve)
    assert not simulator_sm2.verify(point, b"message digesT", SIGNATURE, USER_ID, curve)


def test_round_trip_on_recommended_curve():
    private_key = sm2.generate_private_key()
    public_key = sm2.public_key_of(private_key)
    body = '{"court": "粤0104"}'.encode()

    signature = sm2.sign(private_key, public_key, body)

    assert len(signature) == 64
    assert sm2.verify(public_key, body, signature)
    point = simulator_sm2.parse_public_key(sm2.encode_public_key(public_key))
    assert simulator_sm2.verify(point, body, signature)


def test_signatures_use_fresh_nonces():
    private_key = sm2.generate_private_key()
    public_key = sm2.public_key_of(private_key)

    first = sm2.sign(private_key, public_key, b"{}")
    second = sm2.sign(private_key, public_key, b"{}")

    assert first != second
    assert sm2.verify(public_key, b"{}", second)


def test_altered_body_rejected():
    private_key = sm2.generate_private_key()
    public_key = sm2.public_key_of(private_key)
    signature = sm2.sign(private_key, public_key, b'{"amount": "1.00"}')

    assert not sm2.verify(public_key, b'{"amount": "9.00"}', signature)


def test_other_key_rejected():
    private_key = sm2.generate_private_key()
    public_key = sm2.public_key_of(private_key)
    other = sm2.public_key_of(sm2.generate_private_key())
    signature = sm2.sign(private_key, public_key, b"{}")

    assert not sm2.verify(other, b"{}", signature)


def flip_bit(data: bytes, index: int) -> bytes:
    return data[:index] + bytes([data[index] ^ 1]) + data[index + 1 :]


@pytest.mark.parametrize("index", [0, 31, 32, 63])
def test_altered_signature_rejected(index):
    private_key = sm2.generate_private_key()
    public_key = sm2.public_key_of(private_key)
    signature = sm2.sign(private_key, public_key, b"{}")

    assert not sm2.verify(public_key, b"{}", flip_bit(signature, index))


@pytest.mark.parametrize(
    "signature",
    [
        b"",
        bytes(63),
        bytes(65),
        bytes(64),
        # r = n and s = 1, outside [1, n-1].
        sm2.RECOMMENDED_CURVE.n.to_bytes(32, "big") + (1).to_bytes(32, "big"),
        # s = 0, which gmssl would take for s = 1.
        (1).to_bytes(32, "big") + bytes(32),
    ],
)
def test_malformed_signature_rejected(signature):
    public_key = sm2.public_key_of(sm2.generate_private_key())

    assert not sm2.verify(public_key, b"{}", signature)


def test_public_key_with_leading_zero_digits():
    # gmssl's constructor would strip the leading "04" and then every "0" and "4" after it.
    private_key = next(
        key
        for key in iter(sm2.generate_private_key, None)
        if sm2.public_key_of(key)[:1] in (b"\x00", b"\x04", b"\x40", b"\x44")
    )
    public_key = sm2.public_key_of(private_key)

    signature = sm2.sign(private_key, public_key, b"{}")

    assert sm2.verify(public_key, b"{}", signature)


@pytest.mark.parametrize(
    "text",
    ["", "04", "04" + "00" * 64, "05" + "11" * 64, "04" + "zz" * 64, "04" + "11" * 63],
)
def test_invalid_public_key_text_rejected(text):
    with pytest.raises(sm2.SM2Error):
        sm2.decode_public_key(text)
    with pytest.raises(simulator_sm2.InvalidKey):
        simulator_sm2.parse_public_key(text)


def test_public_key_text_round_trip():
    public_key = sm2.public_key_of(sm2.generate_private_key())

    text = sm2.encode_public_key(public_key)

    assert text.startswith("04")
    assert len(text) == 130
    assert sm2.decode_public_key(text) == public_key
