"""Certificates for the TLS tests, generated with `cryptography` once per test session.

Theory of operation
-------------------
`make_pki(directory)` builds a small public-key infrastructure and writes every piece as PEM
files into `directory`; it returns a `Pki` naming the files. Keys are EC P-256: generating them
takes microseconds, so a session pays a few milliseconds for the whole set.

- `ca` signs `server` (SANs: DNS localhost, IP 127.0.0.1, IP ::1), `expired` (the same names,
  validity over a year ago), `wrong_host` (DNS wrong.example only) and `cn_only` (no SAN
  extension at all, CN=localhost).
- `intermediate` is a CA signed by `ca`; it signs `chained` (the server names); the file
  `chained.chain_pem` holds leaf + intermediate, as a server sends them.
- `client_ca` (a separate root) signs `client` (CN=purecurl client, clientAuth);
  `client.key_encrypted_pem` is the same key under the passphrase `CLIENT_KEY_PASSWORD`.
- `other_ca` is a root nothing chains to: a CAINFO of it makes every server cert untrusted.
- `self_signed` is a server certificate (the server names) that signs itself.

`tls_servers.pki_in(tmp_path_factory)` calls `make_pki` in a temporary directory, for a
session-scoped fixture. `certificate_der(cn, names)` makes one self-signed certificate in memory,
for tests of the name rules.
"""

from __future__ import annotations

import datetime
import hashlib
import ipaddress
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.name import _ASN1Type
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

__all__ = [
    "CLIENT_KEY_PASSWORD",
    "SERVER_NAMES",
    "Issued",
    "Pki",
    "certificate_der",
    "make_pki",
    "subject_hash",
]

CLIENT_KEY_PASSWORD = "s3cret"
SERVER_NAMES = ("localhost", "127.0.0.1", "::1")
_DAY = datetime.timedelta(days=1)
_UTF8 = _ASN1Type.UTF8String


@dataclass(frozen=True)
class Issued:
    """One certificate and its key, as files and as DER."""

    name: str
    cert_pem: Path
    key_pem: Path  # PKCS#8, unencrypted
    cert_der: bytes
    spki_der: bytes  # the DER SubjectPublicKeyInfo (what PINNEDPUBLICKEY hashes)
    chain_pem: Path  # the certificate followed by its issuing intermediates (if any)
    cert_der_file: Path  # the certificate as DER
    key_der_file: Path  # the key as DER PKCS#8
    pubkey_pem: Path  # the public key as a PEM "PUBLIC KEY" block
    pubkey_der: Path  # the public key as DER (`spki_der`)
    key_encrypted_pem: Path | None = None


@dataclass(frozen=True)
class Pki:
    """Every certificate of the test PKI; see the module docstring."""

    directory: Path
    ca: Issued
    intermediate: Issued
    client_ca: Issued
    other_ca: Issued
    server: Issued
    expired: Issued
    wrong_host: Issued
    cn_only: Issued
    chained: Issued
    client: Issued
    self_signed: Issued
    bad_file: Path  # a file that is not PEM at all
    capath: Path  # a directory of hashed CA links (c_rehash layout) holding `ca`


def _name(cn: str | None) -> x509.Name:
    attributes = [
        x509.NameAttribute(NameOID.COUNTRY_NAME, "SE"),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, "purecurl tests"),
    ]
    if cn is not None:
        attributes.append(x509.NameAttribute(NameOID.COMMON_NAME, cn))
    return x509.Name(attributes)


def _san(names: tuple[str, ...]) -> x509.SubjectAlternativeName:
    general: list[x509.GeneralName] = []
    for n in names:
        try:
            general.append(x509.IPAddress(ipaddress.ip_address(n)))
        except ValueError:
            general.append(x509.DNSName(n))
    return x509.SubjectAlternativeName(general)


class _Builder:
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.now = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
        self.serial = 0x1000

    def issue(
        self,
        name: str,
        cn: str,
        *,
        issuer: tuple[x509.Certificate, ec.EllipticCurvePrivateKey] | None = None,
        ca: bool = False,
        names: tuple[str, ...] | None = None,
        not_before: datetime.datetime | None = None,
        not_after: datetime.datetime | None = None,
        client: bool = False,
        chain: tuple[x509.Certificate, ...] = (),
    ) -> tuple[Issued, x509.Certificate, ec.EllipticCurvePrivateKey]:
        key = ec.generate_private_key(ec.SECP256R1())
        subject = _name(cn)
        self.serial += 1
        builder = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(issuer[0].subject if issuer else subject)
            .public_key(key.public_key())
            .serial_number(self.serial)
            .not_valid_before(not_before or self.now - _DAY)
            .not_valid_after(not_after or self.now + 365 * _DAY)
            .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False)
        )
        if issuer is not None:
            builder = builder.add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer[1].public_key()), False
            )
        if ca:
            builder = builder.add_extension(
                x509.KeyUsage(
                    digital_signature=True,
                    content_commitment=False,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    key_cert_sign=True,
                    crl_sign=True,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
        else:
            usage = ExtendedKeyUsageOID.CLIENT_AUTH if client else ExtendedKeyUsageOID.SERVER_AUTH
            builder = builder.add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
        if names:
            builder = builder.add_extension(_san(names), critical=False)
        cert = builder.sign(issuer[1] if issuer else key, hashes.SHA256())
        cert_pem = self.directory / f"{name}.pem"
        key_pem = self.directory / f"{name}.key"
        chain_pem = self.directory / f"{name}.chain.pem"
        pem = cert.public_bytes(serialization.Encoding.PEM)
        cert_pem.write_bytes(pem)
        chain_pem.write_bytes(
            pem + b"".join(c.public_bytes(serialization.Encoding.PEM) for c in chain)
        )
        key_pem.write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
        encrypted = None
        if client:
            encrypted = self.directory / f"{name}.encrypted.key"
            encrypted.write_bytes(
                key.private_bytes(
                    serialization.Encoding.PEM,
                    serialization.PrivateFormat.PKCS8,
                    serialization.BestAvailableEncryption(CLIENT_KEY_PASSWORD.encode()),
                )
            )
        spki = key.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        cert_der = cert.public_bytes(serialization.Encoding.DER)
        files = {
            ".der": cert_der,
            ".key.der": key.private_bytes(
                serialization.Encoding.DER,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            ),
            ".pub.pem": key.public_key().public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            ),
            ".pub.der": spki,
        }
        for suffix, data in files.items():
            (self.directory / f"{name}{suffix}").write_bytes(data)
        issued = Issued(
            name=name,
            cert_pem=cert_pem,
            key_pem=key_pem,
            cert_der=cert_der,
            spki_der=spki,
            chain_pem=chain_pem,
            cert_der_file=self.directory / f"{name}.der",
            key_der_file=self.directory / f"{name}.key.der",
            pubkey_pem=self.directory / f"{name}.pub.pem",
            pubkey_der=self.directory / f"{name}.pub.der",
            key_encrypted_pem=encrypted,
        )
        return issued, cert, key


def subject_hash(name: x509.Name) -> str:
    """Return OpenSSL's X509_NAME_hash of `name` as c_rehash names files ("%08x").

    The hash is over the name's canonical encoding (crypto/x509/x_name.c x509_name_canon):
    every value as a UTF8String, lower-cased with runs of spaces folded, the outer SEQUENCE
    header dropped; the first four bytes of its SHA-1, little-endian.
    """
    canon = x509.Name(
        [
            x509.NameAttribute(attr.oid, " ".join(str(attr.value).lower().split()), _UTF8)
            for attr in name
        ]
    ).public_bytes()
    # Drop the SEQUENCE tag and its length (short or long form).
    header = 2 if canon[1] < 0x80 else 2 + (canon[1] & 0x7F)
    digest = hashlib.sha1(canon[header:]).digest()
    return f"{int.from_bytes(digest[:4], 'little'):08x}"


def make_pki(directory: Path) -> Pki:
    """Generate the test PKI into `directory` (which must exist); return its files."""
    b = _Builder(directory)
    ca, ca_cert, ca_key = b.issue("ca", "purecurl test CA", ca=True)
    inter, inter_cert, inter_key = b.issue(
        "intermediate", "purecurl intermediate CA", ca=True, issuer=(ca_cert, ca_key)
    )
    client_ca, cca_cert, cca_key = b.issue("client-ca", "purecurl client CA", ca=True)
    other_ca, _, _ = b.issue("other-ca", "purecurl unrelated CA", ca=True)
    signer = (ca_cert, ca_key)
    server, _, _ = b.issue("server", "localhost", issuer=signer, names=SERVER_NAMES)
    expired, _, _ = b.issue(
        "expired",
        "localhost",
        issuer=signer,
        names=SERVER_NAMES,
        not_before=b.now - 800 * _DAY,
        not_after=b.now - 400 * _DAY,
    )
    wrong, _, _ = b.issue("wrong-host", "wrong.example", issuer=signer, names=("wrong.example",))
    cn_only, _, _ = b.issue("cn-only", "localhost", issuer=signer)
    chained, _, _ = b.issue(
        "chained",
        "localhost",
        issuer=(inter_cert, inter_key),
        names=SERVER_NAMES,
        chain=(inter_cert,),
    )
    client, _, _ = b.issue("client", "purecurl client", issuer=(cca_cert, cca_key), client=True)
    self_signed, _, _ = b.issue("self-signed", "localhost", names=SERVER_NAMES)
    bad = directory / "not-a-cert.pem"
    bad.write_bytes(b"this is not a certificate\n")
    capath = directory / "capath"
    capath.mkdir()
    (capath / f"{subject_hash(ca_cert.subject)}.0").write_bytes(ca.cert_pem.read_bytes())
    return Pki(
        directory=directory,
        ca=ca,
        intermediate=inter,
        client_ca=client_ca,
        other_ca=other_ca,
        server=server,
        expired=expired,
        wrong_host=wrong,
        cn_only=cn_only,
        chained=chained,
        client=client,
        self_signed=self_signed,
        bad_file=bad,
        capath=capath,
    )


def certificate_der(cn: str | None, names: tuple[str, ...] = ()) -> bytes:
    """Return a self-signed DER certificate: subject CN `cn` (none when None) and, when `names`
    is not empty, a subjectAltName of them (IP literals as iPAddress, the rest as dNSName)."""
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.timezone.utc)
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(cn))
        .issuer_name(_name(cn))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - _DAY)
        .not_valid_after(now + _DAY)
    )
    if names:
        builder = builder.add_extension(_san(names), critical=False)
    return builder.sign(key, hashes.SHA256()).public_bytes(serialization.Encoding.DER)
