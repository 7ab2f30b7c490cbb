"""Check characters of Chinese identifiers, for generating and checking synthetic numbers."""

from __future__ import annotations

import random

# GB 11643: weights of the first 17 digits of a resident ID number and the check characters
# for the weighted sum modulo 11.
RESIDENT_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
RESIDENT_ID_CHECK = "10X98765432"

# GB 32100: the 31 characters of a unified social credit code and the weights of the first 17.
CREDIT_CODE_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
CREDIT_CODE_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)

# ISO 3779: values of the letters allowed in a vehicle identification number (no I, O, Q).
VIN_VALUES = {
    **{str(digit): digit for digit in range(10)},
    **dict(zip("ABCDEFGH", range(1, 9), strict=True)),
    **dict(zip("JKLMN", range(1, 6), strict=True)),
    "P": 7,
    "R": 9,
    **dict(zip("STUVWXYZ", range(2, 10), strict=True)),
}
VIN_WEIGHTS = (8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2)


def resident_id_check(first17: str) -> str:
    total = sum(
        int(digit) * weight for digit, weight in zip(first17, RESIDENT_ID_WEIGHTS, strict=True)
    )
    return RESIDENT_ID_CHECK[total % 11]


def is_valid_resident_id(number: str) -> bool:
    """Check the length, digits and check character of an 18-character resident ID number."""
    if len(number) != 18 or not number[:17].isdigit():
        return False
    return resident_id_check(number[:17]) == number[17]


def make_resident_id(region: str, birth: str, sequence: int) -> str:
    """Build an ID number from a 6-digit region code, a YYYYMMDD birth date and a sequence."""
    if not 0 <= sequence <= 999:
        raise ValueError(f"sequence {sequence} is outside 0 to 999")
    first17 = f"{region}{birth}{sequence:03d}"
    return first17 + resident_id_check(first17)


def credit_code_check(first17: str) -> str:
    total = sum(
        CREDIT_CODE_ALPHABET.index(char) * weight
        for char, weight in zip(first17, CREDIT_CODE_WEIGHTS, strict=True)
    )
    return CREDIT_CODE_ALPHABET[(31 - total % 31) % 31]


def is_valid_credit_code(code: str) -> bool:
    if len(code) != 18 or any(char not in CREDIT_CODE_ALPHABET for char in code):
        return False
    return credit_code_check(code[:17]) == code[17]


def make_credit_code(rng: random.Random, region: str) -> str:
    """Build a credit code of a company (registering authority 9, kind 1) in `region`."""
    body = "".join(rng.choice(CREDIT_CODE_ALPHABET) for _ in range(9))
    first17 = f"91{region}{body}"
    return first17 + credit_code_check(first17)


def luhn_check(digits: str) -> str:
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char)
        if position % 2 == 0:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return str((10 - total % 10) % 10)


def make_vin(rng: random.Random, manufacturer: str) -> str:
    """Build a 17-character VIN with a valid check character in position 9."""
    letters = "ABCDEFGHJKLMNPRSTUVWXYZ0123456789"
    rest = "".join(rng.choice(letters) for _ in range(5))
    year_plant = rng.choice("KLMNPRS") + rng.choice("ABCDEFG")
    serial = f"{rng.randrange(10**6):06d}"
    draft = f"{manufacturer}{rest}0{year_plant}{serial}"
    total = sum(VIN_VALUES[char] * weight for char, weight in zip(draft, VIN_WEIGHTS, strict=True))
    check = "X" if total % 11 == 10 else str(total % 11)
    return draft[:8] + check + draft[9:]
