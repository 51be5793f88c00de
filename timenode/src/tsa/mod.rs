//! The node's RFC 3161 Time-Stamp Authority (`POST /v1/tsa`, `specs/facades.md` § RFC 3161):
//! a token per request, signed with the node's P-256 key under the certificate the network's
//! offline root issued it, stating the second of the final tick that holds the digest.
//!
//! Owns: `[tsa]`, loading the key and certificate and checking them against the genesis root
//! at start, and signing a token over a proof it has verified. Never: issues its own
//! certificate, signs a time the ring has not certified, or logs the key.

pub mod pki;

use crate::facade_stats::FacadeCounters;
use pki::{PkiError, TsaKey};
use serde::Deserialize;
use std::path::PathBuf;
use std::sync::Arc;
use tickchain_api::tsa::{TsaEvent, TsaSigner};
use tickchain_sdk::rfc3161::request::{Failure, Refusal, TsaRequest};
use tickchain_sdk::rfc3161::signer::SignerCertificate;
use tickchain_sdk::rfc3161::{accuracy_for, token};
use tickchain_sdk::{Genesis, Network, Proof};

/// `[tsa]`: the RFC 3161 TSA (off unless both files are set).
#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct TsaSection {
    /// The node's P-256 key (`tsa.key`, PKCS#8 PEM, mode 0600; `timenode keygen` writes it).
    #[serde(default)]
    pub key_file: Option<PathBuf>,
    /// The certificate `timenode genesis --tsa-root` issued for that key (PEM or DER).
    #[serde(default)]
    pub certificate_file: Option<PathBuf>,
}

/// A node's TSA, ready to sign.
pub struct Tsa {
    key: TsaKey,
    certificate: SignerCertificate,
    network: Network,
    counters: Arc<FacadeCounters>,
}

impl std::fmt::Debug for Tsa {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tsa").field("key", &self.key).finish()
    }
}

impl Tsa {
    /// The TSA `section` configures, or `None` when it is off. Refuses a key without a
    /// certificate (or the reverse), a genesis without a TSA root, a certificate the root did
    /// not sign, and a certificate for another key.
    pub fn open(
        section: &TsaSection,
        genesis: &Genesis,
        counters: Arc<FacadeCounters>,
    ) -> Result<Option<Tsa>, PkiError> {
        let (key_file, cert_file) = match (&section.key_file, &section.certificate_file) {
            (None, None) => return Ok(None),
            (Some(k), Some(c)) => (k, c),
            _ => {
                return Err(PkiError::Chain(
                    "[tsa] needs both key-file and certificate-file".into(),
                ));
            }
        };
        let key = TsaKey::read(key_file)?;
        let certificate = pki::read_certificate(cert_file)?;
        let root_der = genesis.tsa_root_der().ok_or_else(|| {
            PkiError::Chain(
                "the genesis pins no tsa_root, so no certificate can chain to it".into(),
            )
        })?;
        let root = SignerCertificate::parse(&root_der)
            .map_err(|e| PkiError::Chain(format!("the genesis tsa_root: {e}")))?;
        pki::check_issued_by(&certificate, &root)?;
        // The offline root must never serve online: a node's certificate is an end entity
        // for time stamping only.
        if certificate == root || certificate.is_ca() {
            return Err(PkiError::Chain(format!(
                "{} is a CA certificate; [tsa] takes the node certificate the root issued",
                cert_file.display()
            )));
        }
        if !certificate.is_time_stamping_only() {
            return Err(PkiError::Chain(format!(
                "{} lacks a critical extendedKeyUsage of exactly id-kp-timeStamping (RFC 3161 §2.3)",
                cert_file.display()
            )));
        }
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        for (what, c) in [
            ("the TSA certificate", &certificate),
            ("the TSA root", &root),
        ] {
            if !c.valid_at(now) {
                let (from, until) = c.validity();
                return Err(PkiError::Chain(format!(
                    "{what} is valid from {from} to {until} (POSIX seconds), not now ({now}); \
                     issue a new one with timenode tsa-cert"
                )));
            }
        }
        if certificate.public_key().ok() != Some(key.public_point()) {
            return Err(PkiError::Chain(format!(
                "{} certifies another key than {}",
                cert_file.display(),
                key_file.display()
            )));
        }
        Ok(Some(Tsa {
            key,
            certificate,
            network: Network::new(genesis.clone()),
            counters,
        }))
    }
}

impl TsaSigner for Tsa {
    fn issue(&self, request: &TsaRequest, proof: &Proof) -> Result<Vec<u8>, Refusal> {
        let system = |m: String| Refusal::new(Failure::SystemFailure, m);
        // Never sign a time the proof does not establish.
        let verified = self
            .network
            .verify(proof)
            .map_err(|e| system(format!("the proof does not verify: {e}")))?;
        if verified.digest != request.digest {
            return Err(system("the proof is for another digest".into()));
        }
        // A verifier checks the signer's certificate at genTime; a digest stamped before this
        // certificate was issued keeps its first genTime, so it cannot be signed under it.
        if !self.certificate.valid_at(verified.second.0) {
            return Err(system(format!(
                "the digest was stamped at second {}, outside this node's TSA certificate's validity",
                verified.second.0
            )));
        }
        let proof_bytes = proof
            .to_compact()
            .map_err(|e| system(format!("the proof does not encode: {e}")))?;
        let serial = self.key.random::<16>().map_err(system)?;
        let statement = token::Statement {
            gen_time: verified.second.0,
            accuracy: accuracy_for(verified.second.0, verified.earliest.0, verified.latest.0),
            serial,
            proof: &proof_bytes,
        };
        token::token(request, &statement, &self.certificate, |m| self.key.sign(m))
            .map_err(|e| system(e.to_string()))
    }

    fn count(&self, event: TsaEvent) {
        let c = &self.counters;
        FacadeCounters::add(
            match event {
                TsaEvent::Request => &c.requests,
                TsaEvent::Granted => &c.responses,
                TsaEvent::Rejected => &c.dropped,
            },
            1,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tickchain_sdk::rfc3161::read::{Reply, read};
    use tickchain_sdk::rfc3161::{self, der};
    use tickchain_sdk::testkit::TestNetwork;
    use tickchain_sdk::{Digest, Height, Second};

    struct Files {
        dir: PathBuf,
    }

    impl Drop for Files {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }

    /// A root, a node key and the certificate the root issued for it, written to files.
    fn files(label: &str) -> (Files, Vec<u8>, TsaSection) {
        let dir = std::env::temp_dir().join(format!("tc-tsa-{label}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs();
        let (root_key, root_der) = pki::new_root("unit", now).unwrap();
        let root = SignerCertificate::parse(&root_der).unwrap();
        let key = TsaKey::generate().unwrap();
        let cert = pki::issue(&root_key, &root, "node-0", key.public_point(), now).unwrap();
        key.write(&dir.join("tsa.key")).unwrap();
        std::fs::write(dir.join("tsa.pem"), der::pem("CERTIFICATE", &cert)).unwrap();
        let section = TsaSection {
            key_file: Some(dir.join("tsa.key")),
            certificate_file: Some(dir.join("tsa.pem")),
        };
        (Files { dir }, root_der, section)
    }

    fn open(section: &TsaSection, genesis: &Genesis) -> Result<Option<Tsa>, PkiError> {
        Tsa::open(section, genesis, Arc::default())
    }

    #[test]
    fn a_node_serves_only_under_the_root_its_genesis_pins() {
        let (_files, root, section) = files("open");
        let net = TestNetwork::new("tsa-open", 4, 1, Second(1_799_999_000));
        let pinned = TestNetwork::new("tsa-open", 4, 1, Second(1_799_999_000)).with_gateways(
            "tsa-open",
            0,
            Some(&root),
        );
        assert!(
            open(&TsaSection::default(), &net.genesis)
                .unwrap()
                .is_none()
        );
        assert!(open(&section, &pinned.genesis).unwrap().is_some());
        // No root in genesis, another root, half a section, another key.
        assert!(matches!(
            open(&section, &net.genesis),
            Err(PkiError::Chain(_))
        ));
        let (_other_files, other_root, other_section) = files("open-other");
        let other = TestNetwork::new("tsa-open", 4, 1, Second(1_799_999_000)).with_gateways(
            "tsa-open",
            0,
            Some(&other_root),
        );
        assert!(matches!(
            open(&section, &other.genesis),
            Err(PkiError::Chain(_))
        ));
        let half = TsaSection {
            certificate_file: None,
            ..section.clone()
        };
        assert!(matches!(
            open(&half, &pinned.genesis),
            Err(PkiError::Chain(_))
        ));
        let swapped = TsaSection {
            key_file: other_section.key_file.clone(),
            ..section.clone()
        };
        assert!(matches!(
            open(&swapped, &pinned.genesis),
            Err(PkiError::Chain(_))
        ));
    }

    #[test]
    fn the_root_itself_is_refused_as_a_node_certificate() {
        let dir = std::env::temp_dir().join(format!("tc-tsa-rootcert-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let _cleanup = Files { dir: dir.clone() };
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs();
        let (root_key, root_der) = pki::new_root("unit", now).unwrap();
        root_key.write(&dir.join("root.key")).unwrap();
        std::fs::write(dir.join("root.pem"), der::pem("CERTIFICATE", &root_der)).unwrap();
        let net = TestNetwork::new("tsa-rootcert", 4, 1, Second(1_799_999_000)).with_gateways(
            "tsa-rootcert",
            0,
            Some(&root_der),
        );
        let section = TsaSection {
            key_file: Some(dir.join("root.key")),
            certificate_file: Some(dir.join("root.pem")),
        };
        let err = open(&section, &net.genesis).unwrap_err().to_string();
        assert!(err.contains("CA certificate"), "{err}");
    }

    #[test]
    fn a_token_states_the_proofs_tick_and_never_another_digests() {
        let (_files, root, section) = files("issue");
        let net = TestNetwork::new("tsa-issue", 4, 1, Second(1_799_999_000)).with_gateways(
            "tsa-issue",
            0,
            Some(&root),
        );
        let tsa = open(&section, &net.genesis).unwrap().unwrap();
        let digest = Digest([0x42; 32]);
        let proof = net.proof_of(digest, Second(1_800_000_000), Height(5));
        let query = TsaRequest::encode(&digest, Some(99), true);
        let request = TsaRequest::parse(&query).unwrap();
        let tok = tsa.issue(&request, &proof).unwrap();
        let Reply::Token(info) = read(&token::granted(&tok)).unwrap() else {
            panic!("refused");
        };
        assert_eq!(info.gen_time, 1_800_000_000);
        let (_, _, verified) =
            rfc3161::verify_token(&Network::new(net.genesis.clone()), &tok).unwrap();
        assert_eq!(verified.digest, digest);
        // A proof of another digest, or one that does not verify, is never signed.
        let other = TsaRequest::parse(&TsaRequest::encode(&Digest([1; 32]), None, false)).unwrap();
        assert_eq!(
            tsa.issue(&other, &proof).unwrap_err().failure,
            Failure::SystemFailure
        );
        let mut forged = proof.clone();
        forged.tick.second = Second(1_800_000_100);
        assert!(tsa.issue(&request, &forged).is_err());
    }
}
