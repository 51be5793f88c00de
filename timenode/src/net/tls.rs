//! TLS identities and peer verification pinned to the genesis keys.
//!
//! Owns: turning a node's Ed25519 identity key into a self-signed certificate, and the rustls
//! verifiers that accept a peer only when its certificate key is a genesis key (the expected
//! node's key when dialling). Never: consults any CA, hostname or expiry — genesis is the only
//! trust root. TLS 1.3 only, Ed25519 only.

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, verify_tls13_signature};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, ServerName, UnixTime};
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::{DigitallySignedStruct, DistinguishedName, SignatureScheme};
use std::sync::Arc;
use tickchain_consensus::peer::spki;
use tickchain_sdk::{Genesis, NodeId};

/// ALPN protocol id of the peer protocol.
pub const ALPN: &[u8] = b"tickchain/1";

/// The TLS server name a node dials a peer by: `node-<id>.tickchain`.
pub fn server_name(id: NodeId) -> String {
    format!("node-{}.tickchain", id.0)
}

fn node_from_server_name(name: &ServerName<'_>) -> Option<NodeId> {
    let ServerName::DnsName(dns) = name else {
        return None;
    };
    let id = dns
        .as_ref()
        .strip_prefix("node-")?
        .strip_suffix(".tickchain")?;
    id.parse().ok().map(NodeId)
}

/// A node's certificate chain and private key for rustls.
pub struct TlsIdentity {
    /// The self-signed certificate.
    pub cert: CertificateDer<'static>,
    /// The PKCS#8 private key.
    pub key: PrivateKeyDer<'static>,
}

/// Builds a self-signed certificate for `key` (its SPKI is the Ed25519 identity key).
pub fn identity(key: &ed25519_dalek::SigningKey, id: NodeId) -> Result<TlsIdentity, rcgen::Error> {
    // PKCS#8 v1 for Ed25519 (RFC 8410 §7): fixed prefix, then the 32-byte seed.
    let mut pkcs8 = vec![
        0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04,
        0x20,
    ];
    pkcs8.extend_from_slice(key.as_bytes());
    let der = PrivatePkcs8KeyDer::from(pkcs8);
    let pair = rcgen::KeyPair::from_pkcs8_der_and_sign_algo(&der, &rcgen::PKCS_ED25519)?;
    let cert = rcgen::CertificateParams::new(vec![server_name(id)])?.self_signed(&pair)?;
    Ok(TlsIdentity {
        cert: cert.der().clone(),
        key: PrivateKeyDer::Pkcs8(der),
    })
}

/// The genesis node or gateway whose key is in `cert`, if any: node `i` as `i`, gateway `i` as
/// `n + i` (its batch signer id).
pub fn node_of(genesis: &Genesis, cert: &CertificateDer<'_>) -> Option<NodeId> {
    let key = spki::ed25519_key(cert).ok()?;
    genesis
        .nodes
        .iter()
        .map(|n| &n.public_key)
        .chain(genesis.gateways.iter().map(|g| &g.public_key))
        .position(|k| k.0 == key)
        .map(|i| NodeId(i as u16))
}

/// Accepts exactly the genesis keys, gateways' included (and, as a client, exactly the
/// dialled node's key).
#[derive(Debug)]
pub struct PinnedPeers {
    genesis: Genesis,
    provider: Arc<CryptoProvider>,
}

impl PinnedPeers {
    /// A verifier for `genesis` using `provider`'s signature algorithms.
    pub fn new(genesis: Genesis, provider: Arc<CryptoProvider>) -> PinnedPeers {
        PinnedPeers { genesis, provider }
    }

    fn check(
        &self,
        cert: &CertificateDer<'_>,
        expected: Option<NodeId>,
    ) -> Result<NodeId, rustls::Error> {
        let node = node_of(&self.genesis, cert).ok_or_else(|| {
            rustls::Error::General("peer certificate key is not a genesis key".into())
        })?;
        match expected {
            Some(e) if e != node => Err(rustls::Error::General(format!(
                "dialled node {e} but the peer holds node {node}'s key"
            ))),
            _ => Ok(node),
        }
    }

    fn signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        if dss.scheme != SignatureScheme::ED25519 {
            return Err(rustls::Error::PeerIncompatible(
                rustls::PeerIncompatible::NoSignatureSchemesInCommon,
            ));
        }
        verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }
}

impl ServerCertVerifier for PinnedPeers {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        _ocsp: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let expected = node_from_server_name(server_name).ok_or_else(|| {
            rustls::Error::General("server name is not node-<id>.tickchain".into())
        })?;
        if expected.index() >= self.genesis.n() {
            // Only ring members accept connections; a gateway is never dialled.
            return Err(rustls::Error::General(format!(
                "node {expected} is not a ring member"
            )));
        }
        self.check(end_entity, Some(expected))?;
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        _message: &[u8],
        _cert: &CertificateDer<'_>,
        _dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        Err(rustls::Error::PeerIncompatible(
            rustls::PeerIncompatible::Tls13RequiredForQuic,
        ))
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        vec![SignatureScheme::ED25519]
    }
}

impl ClientCertVerifier for PinnedPeers {
    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        &[]
    }

    fn verify_client_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _now: UnixTime,
    ) -> Result<ClientCertVerified, rustls::Error> {
        self.check(end_entity, None)?;
        Ok(ClientCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        _message: &[u8],
        _cert: &CertificateDer<'_>,
        _dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        Err(rustls::Error::PeerIncompatible(
            rustls::PeerIncompatible::Tls13RequiredForQuic,
        ))
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        vec![SignatureScheme::ED25519]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tickchain_sdk::Second;
    use tickchain_sdk::testkit::TestNetwork;

    #[test]
    fn a_nodes_certificate_carries_exactly_its_genesis_key() {
        let net = TestNetwork::new("tls-identity", 4, 1, Second(1_764_000_000));
        for (i, key) in net.keys.iter().enumerate() {
            let id = identity(key, NodeId(i as u16)).unwrap();
            assert_eq!(
                spki::ed25519_key(&id.cert).unwrap(),
                key.verifying_key().to_bytes()
            );
            assert_eq!(node_of(&net.genesis, &id.cert), Some(NodeId(i as u16)));
        }
        let outsider = ed25519_dalek::SigningKey::from_bytes(&[7; 32]);
        let cert = identity(&outsider, NodeId(0)).unwrap().cert;
        assert_eq!(node_of(&net.genesis, &cert), None);
    }

    #[test]
    fn server_names_map_back_to_node_ids() {
        let name = ServerName::try_from(server_name(NodeId(12))).unwrap();
        assert_eq!(node_from_server_name(&name), Some(NodeId(12)));
        let other = ServerName::try_from("example.com").unwrap();
        assert_eq!(node_from_server_name(&other), None);
    }
}
