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
            PkiError::Chain("the genesis pins no tsa_root, so no certificate can chain to it".into())
        })?;
        let root = SignerCertificate::parse(&root_der)
            .map_err(|e| PkiError::Chain(format!("the genesis tsa_root: {e}")))?;
        pki::check_issued_by(&certificate, &root)?;
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
