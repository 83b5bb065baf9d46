"""VAPID keys: the public key is what browsers' `applicationServerKey` accepts."""

from __future__ import annotations

import base64
import re

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519

from backend.notify.vapid import generate_vapid_keys, load_private_key, public_key_from_private


def _b64url_decode(value: str) -> bytes:
    return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))


def test_public_key_is_an_unpadded_base64url_uncompressed_p256_point() -> None:
    _, public = generate_vapid_keys()
    assert re.fullmatch(r"[A-Za-z0-9_-]+", public)  # no padding, no +/
    point = _b64url_decode(public)
    assert len(point) == 65 and point[0] == 0x04
    ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), point)  # on the curve


def test_private_key_is_pkcs8_pem_and_round_trips_to_the_same_public_key() -> None:
    pem, public = generate_vapid_keys()
    assert pem.startswith("-----BEGIN PRIVATE KEY-----\n")
    assert public_key_from_private(pem) == public


def test_every_call_makes_a_new_key() -> None:
    assert generate_vapid_keys()[1] != generate_vapid_keys()[1]


def test_sec1_pem_with_crlf_and_trailing_blank_lines_is_accepted() -> None:
    pem, public = generate_vapid_keys()
    sec1 = load_private_key(pem).private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    ).decode()
    assert sec1.startswith("-----BEGIN EC PRIVATE KEY-----")
    messy = sec1.replace("\n", "\r\n") + "\r\n\r\n"
    assert public_key_from_private(messy) == public


@pytest.mark.parametrize(
    "key",
    [ec.generate_private_key(ec.SECP384R1()), ed25519.Ed25519PrivateKey.generate()],
    ids=["p384", "ed25519"],
)
def test_a_key_that_is_not_p256_is_refused(
    key: ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey,
) -> None:
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    with pytest.raises(ValueError, match="P-256"):
        public_key_from_private(pem)
