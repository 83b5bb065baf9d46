"""VAPID (RFC 8292) application server keys: generate them, derive the public key.

The private key is kept as PEM (PKCS#8) in configuration; browsers want the public key as
the URL-safe base64 of the uncompressed P-256 point for `applicationServerKey`.
"""

from __future__ import annotations

import base64

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec


def generate_vapid_keys() -> tuple[str, str]:
    """A new key pair: (private key PEM, public key as unpadded base64url point)."""
    key = ec.generate_private_key(ec.SECP256R1())
    pem = key.private_bytes(
        encoding=serialization.Encoding.PEM,
        format=serialization.PrivateFormat.PKCS8,
        encryption_algorithm=serialization.NoEncryption(),
    ).decode("ascii")
    return pem, _public_key_b64(key)


def public_key_from_private(pem: str) -> str:
    """The browser-facing public key (unpadded base64url point) of a VAPID private key PEM."""
    return _public_key_b64(load_private_key(pem))


def load_private_key(pem: str) -> ec.EllipticCurvePrivateKey:
    """Load a VAPID private key from PEM (PKCS#8 or SEC1); raise ValueError if not P-256."""
    # cryptography parses any well-formed PEM; py_vapid's own from_pem only strips the first
    # and last line, which breaks on trailing blank lines or CRLF from a config file.
    key = serialization.load_pem_private_key(pem.strip().encode("ascii"), password=None)
    if not isinstance(key, ec.EllipticCurvePrivateKey) or key.curve.name != "secp256r1":
        raise ValueError("VAPID key must be an EC P-256 (secp256r1) private key")
    return key


def _public_key_b64(key: ec.EllipticCurvePrivateKey) -> str:
    point = key.public_key().public_bytes(
        encoding=serialization.Encoding.X962,
        format=serialization.PublicFormat.UncompressedPoint,
    )
    # Padding is dropped: the Push API and the RFC 8292 `k=` parameter use unpadded base64url.
    return base64.urlsafe_b64encode(point).rstrip(b"=").decode("ascii")
