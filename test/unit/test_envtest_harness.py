"""Pure parts of the control-plane harness: certificates and kubeconfigs."""

from __future__ import annotations

from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from kubernetes import client, config

from opstack.testing.envtest import CertificateAuthority, write_kubeconfig


def test_client_certificate_carries_user_and_groups_and_is_signed_by_the_ca() -> None:
    ca = CertificateAuthority()
    pair = ca.issue("alice", organizations=["dev", "ops"], client=True)
    cert = x509.load_pem_x509_certificate(pair.cert_pem)
    ca_cert = x509.load_pem_x509_certificate(ca.pair.cert_pem)
    assert cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "alice"
    assert [a.value for a in cert.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)] == ["dev", "ops"]
    pub = ca_cert.public_key()
    assert isinstance(pub, ec.EllipticCurvePublicKey)
    cert.verify_directly_issued_by(ca_cert)


def test_serving_certificate_names_ip_and_dns_hosts() -> None:
    pair = CertificateAuthority().issue("apiserver", hosts=["localhost", "127.0.0.1"])
    sans = x509.load_pem_x509_certificate(pair.cert_pem).extensions.get_extension_for_class(
        x509.SubjectAlternativeName
    )
    assert sans.value.get_values_for_type(x509.DNSName) == ["localhost"]
    assert [str(ip) for ip in sans.value.get_values_for_type(x509.IPAddress)] == ["127.0.0.1"]


def test_kubeconfig_loads_with_the_kubernetes_package(tmp_path: Path) -> None:
    ca = CertificateAuthority()
    path = write_kubeconfig(
        tmp_path / "kc", "https://127.0.0.1:6443", ca.pair.cert_pem, "admin", ca.issue("admin")
    )
    cfg = client.Configuration()
    config.load_kube_config(str(path), client_configuration=cfg)
    assert cfg.host == "https://127.0.0.1:6443"
    assert Path(cfg.ssl_ca_cert).read_bytes() == ca.pair.cert_pem
    assert oct(path.stat().st_mode & 0o777) == "0o600"
