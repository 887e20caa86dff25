"""The webhook's certificate when the bot itself serves HTTPS: the operator's files, or one made here.

Telegram delivers updates only over HTTPS, and accepts a self-signed certificate uploaded with
``setWebhook``: made once on first start for the webhook's host, kept under ``DATA_DIR/tls``, it
lets a bot run webhooks with no certificate authority at all. Replicas that share ``DATA_DIR``
serve the same one: the first to finish making it wins, and the others take it.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
import shutil
import tempfile
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

VALID_DAYS = 3650


def self_signed(directory: Path, host: str) -> tuple[Path, Path]:
    """The certificate and key for ``host`` (a name or an IP address) under ``directory/tls``, made now
    if they are not there yet."""
    final = directory / "tls"
    cert, key = final / "cert.pem", final / "key.pem"
    if cert.exists() and key.exists():
        return cert, key
    directory.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=directory, prefix=".tls-"))
    _write_pair(staging / "cert.pem", staging / "key.pem", host)
    try:
        os.rename(staging, final)  # whole or not at all; a directory another replica filled first stays
    except OSError:
        shutil.rmtree(staging, ignore_errors=True)
    return cert, key


def _write_pair(cert: Path, key: Path, host: str) -> None:
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host)])
    try:
        alternative: x509.GeneralName = x509.IPAddress(ipaddress.ip_address(host))
    except ValueError:
        alternative = x509.DNSName(host)
    now = dt.datetime.now(dt.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(private.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=VALID_DAYS))
        .add_extension(x509.SubjectAlternativeName([alternative]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(private, hashes.SHA256())
    )
    key.write_bytes(private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    key.chmod(0o600)
    cert.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
