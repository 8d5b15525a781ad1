"""The local control plane's keys and certificates, made fresh for each cluster and never reused.

One CA signs the API server's serving certificate (for 127.0.0.1 and ``localhost``), the
admin's client certificate (group ``system:masters``, as K3s's own admin kubeconfig is) and a
tenant's (group ``perfdata:tenants``, no rights until a test grants some: unlike the admin's,
its requests are subject to API priority and fairness); a separate key signs service-account
tokens. Everything lives in the cluster's private
directory (mode 0700) and dies with it. EC P-256 keys: generating one takes microseconds,
where RSA-2048 takes tens of milliseconds on these machines.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
from dataclasses import dataclass
from pathlib import Path
from typing import final

__all__ = ["TENANT_GROUP", "TENANT_USER", "Pki", "make_pki"]

#: The tenant's identity: an ordinary user, for what the exempt admin cannot show (throttling, RBAC).
TENANT_USER = "perfdata-tenant"
TENANT_GROUP = "perfdata:tenants"

_VALID_FOR = dt.timedelta(days=2)  # a test session, with room for a slow one; never a long-lived key


@final
@dataclass(frozen=True, slots=True)
class Pki:
    """Paths of the files :func:`make_pki` wrote."""

    ca_cert: Path
    serving_cert: Path
    serving_key: Path
    admin_cert: Path
    admin_key: Path
    tenant_cert: Path
    tenant_key: Path
    service_account_key: Path  # private: the controller-manager signs tokens with it
    service_account_pub: Path  # public: the API server verifies them with it


def make_pki(folder: Path) -> Pki:
    """Write a fresh CA, serving, admin and tenant certificates and a service-account key pair into ``folder``."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    now = dt.datetime.now(dt.timezone.utc) - dt.timedelta(minutes=5)  # a little clock skew is fine

    def name(common: str, organization: str | None = None) -> x509.Name:
        parts = [x509.NameAttribute(NameOID.COMMON_NAME, common)]
        if organization:
            parts.append(x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization))
        return x509.Name(parts)

    def key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
        return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                 serialization.NoEncryption())

    def certificate(subject: x509.Name, key: ec.EllipticCurvePrivateKey, issuer: x509.Name,
                    signer: ec.EllipticCurvePrivateKey, *, ca: bool = False,
                    usage: ExtendedKeyUsageOID | None = None, sans: list[x509.GeneralName] | None = None) -> bytes:
        builder = (x509.CertificateBuilder().subject_name(subject).issuer_name(issuer)
                   .public_key(key.public_key()).serial_number(x509.random_serial_number())
                   .not_valid_before(now).not_valid_after(now + _VALID_FOR)
                   .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
        if ca:
            builder = builder.add_extension(x509.KeyUsage(
                digital_signature=True, key_cert_sign=True, crl_sign=True, content_commitment=False,
                key_encipherment=False, data_encipherment=False, key_agreement=False,
                encipher_only=False, decipher_only=False), critical=True)
        if usage is not None:
            builder = builder.add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
        if sans:
            builder = builder.add_extension(x509.SubjectAlternativeName(sans), critical=False)
        return builder.sign(signer, hashes.SHA256()).public_bytes(serialization.Encoding.PEM)

    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = name("pytest-perfdata local cluster CA")
    serving_key, admin_key, tenant_key, sa_key = (ec.generate_private_key(ec.SECP256R1()) for _ in range(4))
    files = {
        "ca.crt": certificate(ca_name, ca_key, ca_name, ca_key, ca=True),
        "serving.crt": certificate(name("kube-apiserver"), serving_key, ca_name, ca_key,
                                   usage=ExtendedKeyUsageOID.SERVER_AUTH,
                                   sans=[x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
                                         x509.DNSName("localhost")]),
        "serving.key": key_pem(serving_key),
        "admin.crt": certificate(name("perfdata-admin", "system:masters"), admin_key, ca_name, ca_key,
                                 usage=ExtendedKeyUsageOID.CLIENT_AUTH),
        "admin.key": key_pem(admin_key),
        "tenant.crt": certificate(name(TENANT_USER, TENANT_GROUP), tenant_key, ca_name, ca_key,
                                  usage=ExtendedKeyUsageOID.CLIENT_AUTH),
        "tenant.key": key_pem(tenant_key),
        "service-account.key": key_pem(sa_key),
        "service-account.pub": sa_key.public_key().public_bytes(serialization.Encoding.PEM,
                                                                serialization.PublicFormat.SubjectPublicKeyInfo),
    }
    for file_name, data in files.items():
        path = folder / file_name
        path.write_bytes(data)
        path.chmod(0o600)
    return Pki(*(folder / n for n in ("ca.crt", "serving.crt", "serving.key", "admin.crt", "admin.key",
                                      "tenant.crt", "tenant.key", "service-account.key", "service-account.pub")))
