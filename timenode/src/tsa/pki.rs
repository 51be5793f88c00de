//! The TSA's keys and certificates: a node's P-256 key, the network's offline root, the
//! certificates `timenode genesis` issues from it, and the check a node makes of its own
//! certificate against the root its genesis pins.
//!
//! Owns: the file formats (`tsa.key` and `tsa-root.key`: PKCS#8 PEM, mode 0600; `tsa.pub`:
//! the SEC1 uncompressed point in hex; certificates: PEM) and the certificate profile (root:
//! CA, keyCertSign; node: CA false, digitalSignature, extendedKeyUsage timeStamping marked
//! critical as RFC 3161 §2.3 requires). Never: prints or logs a private key; a node never
//! issues its own certificate.

use rcgen::{
    BasicConstraints, CertificateParams, CustomExtension, DistinguishedName, DnType, IsCa, KeyPair,
    KeyUsagePurpose, PKCS_ECDSA_P256_SHA256, PublicKeyData, SignatureAlgorithm,
};
use ring::rand::SystemRandom;
use ring::signature::{
    ECDSA_P256_SHA256_ASN1, ECDSA_P256_SHA256_ASN1_SIGNING, EcdsaKeyPair, KeyPair as _,
    UnparsedPublicKey,
};
use std::path::Path;
use tickchain_sdk::rfc3161::der;
use tickchain_sdk::rfc3161::signer::SignerCertificate;

/// A node's TSA key file, written by `timenode keygen` beside `node.key`.
pub const KEY_FILE: &str = "tsa.key";
/// Its public key (hex of the uncompressed point), which `timenode genesis` certifies.
pub const PUB_FILE: &str = "tsa.pub";
/// The network root's key file (keep it offline).
pub const ROOT_KEY_FILE: &str = "tsa-root.key";
/// The network root's certificate (public; its DER goes into genesis as `tsa_root`).
pub const ROOT_CERT_FILE: &str = "tsa-root.pem";

/// Why a TSA key or certificate is unusable.
#[derive(Debug, thiserror::Error)]
pub enum PkiError {
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The path.
        path: String,
        /// The error.
        source: std::io::Error,
    },
    /// A private key file readable by others.
    #[error("{path}: mode {mode:o} lets others read a private key; chmod 600 it")]
    Permissions {
        /// The path.
        path: String,
        /// Its mode.
        mode: u32,
    },
    /// Bytes that are not what the file should hold.
    #[error("{path}: {reason}")]
    Format {
        /// The path (or argument).
        path: String,
        /// What is wrong.
        reason: String,
    },
    /// The certificate does not chain to the root, or does not match the key.
    #[error("TSA certificate: {0}")]
    Chain(String),
    /// Key generation or signing failed.
    #[error("TSA crypto: {0}")]
    Crypto(String),
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> PkiError + '_ {
    move |source| PkiError::Io {
        path: path.display().to_string(),
        source,
    }
}

/// Writes `text` to a new file of mode 0600 (refuses to overwrite).
fn write_secret(path: &Path, text: &str) -> Result<(), PkiError> {
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut file = opts.open(path).map_err(io(path))?;
    std::io::Write::write_all(&mut file, text.as_bytes()).map_err(io(path))?;
    file.sync_all().map_err(io(path))
}

/// Writes `text` to a new public file (refuses to overwrite).
pub fn write_public(path: &Path, text: &str) -> Result<(), PkiError> {
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
        .map_err(io(path))?;
    std::io::Write::write_all(&mut file, text.as_bytes()).map_err(io(path))
}

/// Reads a PKCS#8 PEM private key, refusing a file others can read.
fn read_secret(path: &Path) -> Result<Vec<u8>, PkiError> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(path)
            .map_err(io(path))?
            .permissions()
            .mode()
            & 0o777;
        if mode & 0o077 != 0 {
            return Err(PkiError::Permissions {
                path: path.display().to_string(),
                mode,
            });
        }
    }
    let text = std::fs::read_to_string(path).map_err(io(path))?;
    der::from_pem("PRIVATE KEY", &text).ok_or_else(|| PkiError::Format {
        path: path.display().to_string(),
        reason: "expected a PEM PRIVATE KEY (PKCS#8) block".into(),
    })
}

/// Reads a certificate, PEM or DER.
pub fn read_certificate(path: &Path) -> Result<SignerCertificate, PkiError> {
    let bytes = std::fs::read(path).map_err(io(path))?;
    let der_bytes = match std::str::from_utf8(&bytes)
        .ok()
        .and_then(|t| der::from_pem("CERTIFICATE", t))
    {
        Some(d) => d,
        None => bytes,
    };
    SignerCertificate::parse(&der_bytes).map_err(|e| PkiError::Format {
        path: path.display().to_string(),
        reason: format!("not an X.509 certificate: {e}"),
    })
}

/// A P-256 signing key.
pub struct TsaKey {
    pair: EcdsaKeyPair,
    pkcs8: Vec<u8>,
    rng: SystemRandom,
}

impl std::fmt::Debug for TsaKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "TsaKey({})", hex::encode(self.public_point()))
    }
}

impl TsaKey {
    /// A fresh key.
    pub fn generate() -> Result<TsaKey, PkiError> {
        let rng = SystemRandom::new();
        let doc = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, &rng)
            .map_err(|e| PkiError::Crypto(e.to_string()))?;
        TsaKey::from_pkcs8(doc.as_ref()).map_err(PkiError::Crypto)
    }

    fn from_pkcs8(pkcs8: &[u8]) -> Result<TsaKey, String> {
        let rng = SystemRandom::new();
        let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, pkcs8, &rng)
            .map_err(|e| format!("not a P-256 PKCS#8 key: {e}"))?;
        Ok(TsaKey {
            pair,
            pkcs8: pkcs8.to_vec(),
            rng,
        })
    }

    /// Reads a key file (mode 0600 required).
    pub fn read(path: &Path) -> Result<TsaKey, PkiError> {
        let pkcs8 = read_secret(path)?;
        TsaKey::from_pkcs8(&pkcs8).map_err(|reason| PkiError::Format {
            path: path.display().to_string(),
            reason,
        })
    }

    /// Writes the key as PKCS#8 PEM, mode 0600 (refuses to overwrite).
    pub fn write(&self, path: &Path) -> Result<(), PkiError> {
        write_secret(path, &der::pem("PRIVATE KEY", &self.pkcs8))
    }

    /// The SEC1 uncompressed public point (65 bytes).
    pub fn public_point(&self) -> &[u8] {
        self.pair.public_key().as_ref()
    }

    /// A DER ECDSA-Sig-Value over SHA-256 of `message`.
    pub fn sign(&self, message: &[u8]) -> Result<Vec<u8>, String> {
        self.pair
            .sign(&self.rng, message)
            .map(|s| s.as_ref().to_vec())
            .map_err(|e| e.to_string())
    }

    /// `len` random bytes from the OS.
    pub fn random<const N: usize>(&self) -> Result<[u8; N], String> {
        let mut out = [0u8; N];
        ring::rand::SecureRandom::fill(&self.rng, &mut out).map_err(|e| e.to_string())?;
        Ok(out)
    }

    fn rcgen_pair(&self) -> Result<KeyPair, PkiError> {
        let der = rustls::pki_types::PrivatePkcs8KeyDer::from(self.pkcs8.clone());
        KeyPair::from_pkcs8_der_and_sign_algo(&der, &PKCS_ECDSA_P256_SHA256)
            .map_err(|e| PkiError::Crypto(e.to_string()))
    }
}

/// A P-256 public point, as the subject of a certificate.
struct Point(Vec<u8>);

impl PublicKeyData for Point {
    fn der_bytes(&self) -> &[u8] {
        &self.0
    }
    fn algorithm(&self) -> &'static SignatureAlgorithm {
        &PKCS_ECDSA_P256_SHA256
    }
}

/// Parses a `tsa.pub` value: 130 hex characters of an uncompressed P-256 point.
pub fn parse_public_point(text: &str) -> Result<Vec<u8>, String> {
    let bytes = hex::decode(text.trim()).map_err(|e| format!("not hex: {e}"))?;
    if bytes.len() != 65 || bytes[0] != 0x04 {
        return Err(format!(
            "expected an uncompressed P-256 point (65 bytes starting 04), got {} bytes",
            bytes.len()
        ));
    }
    Ok(bytes)
}

fn name(common_name: &str) -> DistinguishedName {
    let mut dn = DistinguishedName::new();
    dn.push(DnType::OrganizationName, "tickchain");
    dn.push(DnType::CommonName, common_name);
    dn
}

/// Validity from the day before `from` (POSIX seconds), for `days` days.
fn validity(params: &mut CertificateParams, from: u64, days: u64) {
    let date = |s: u64| {
        let (y, m, d) = der::civil_date(s);
        rcgen::date_time_ymd(y.min(9999) as i32, m as u8, d as u8)
    };
    params.not_before = date(from.saturating_sub(86_400));
    params.not_after = date(from.saturating_add(days * 86_400));
}

/// Root certificates are valid 20 years; node certificates 5.
const ROOT_DAYS: u64 = 20 * 365;
const NODE_DAYS: u64 = 5 * 365;

/// `extendedKeyUsage` = `id-kp-timeStamping` (1.3.6.1.5.5.7.3.8), critical (RFC 3161 §2.3).
fn time_stamping_eku() -> CustomExtension {
    let value = der::constructed(
        der::SEQUENCE,
        &[&der::tlv(
            der::OID,
            &[0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x03, 0x08],
        )],
    );
    let mut ext = CustomExtension::from_oid_content(&[2, 5, 29, 37], value);
    ext.set_criticality(true);
    ext
}

fn root_params(common_name: &str, from: u64) -> CertificateParams {
    let mut params = CertificateParams::default();
    params.distinguished_name = name(common_name);
    params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    validity(&mut params, from, ROOT_DAYS);
    params
}

/// A network's TSA root: a new key and its self-signed certificate (DER), named
/// `tickchain TSA root <chain_id>`, valid 20 years from the day before `now`.
pub fn new_root(chain_id: &str, now: u64) -> Result<(TsaKey, Vec<u8>), PkiError> {
    let key = TsaKey::generate()?;
    let params = root_params(&format!("tickchain TSA root {chain_id}"), now);
    let cert = params
        .self_signed(&key.rcgen_pair()?)
        .map_err(|e| PkiError::Crypto(e.to_string()))?;
    Ok((key, cert.der().to_vec()))
}

/// The common name in a certificate's subject, if it has exactly one.
fn common_name(name_der: &[u8]) -> Option<String> {
    let name = der::single(name_der, der::SEQUENCE, "Name").ok()?;
    let mut rdns = der::Reader::new(name.value);
    let mut found = None;
    while !rdns.is_empty() {
        let rdn = rdns.expect(der::SET, "RDN").ok()?;
        let mut atvs = der::Reader::new(rdn.value);
        while !atvs.is_empty() {
            let atv = atvs.expect(der::SEQUENCE, "AttributeTypeAndValue").ok()?;
            let mut a = der::Reader::new(atv.value);
            let oid = a.expect(der::OID, "type").ok()?;
            let value = a.any().ok()?;
            if oid.value == [0x55, 0x04, 0x03] {
                if found.is_some() {
                    return None;
                }
                found = Some(String::from_utf8(value.value.to_vec()).ok()?);
            }
        }
    }
    found
}

/// Issues a node's TSA certificate (DER) for `point`, named `tickchain TSA <node_name>`, from
/// the root key and certificate, valid 5 years from the day before `now`.
pub fn issue(
    root_key: &TsaKey,
    root_cert: &SignerCertificate,
    node_name: &str,
    point: &[u8],
    now: u64,
) -> Result<Vec<u8>, PkiError> {
    let chain = |m: String| PkiError::Chain(m);
    if root_cert.public_key().ok() != Some(root_key.public_point()) {
        return Err(chain(
            "the root key does not match the root certificate".into(),
        ));
    }
    let root_cn = common_name(root_cert.subject())
        .ok_or_else(|| chain("the root certificate's subject has no single common name".into()))?;
    let mut issuer_params = root_params(&root_cn, now);
    // The issued certificate's authority key identifier must be the root's own subject key
    // identifier, whatever method made it, or a verifier cannot build the chain.
    if let Some(ski) = root_cert.subject_key_id() {
        issuer_params.key_identifier_method = rcgen::KeyIdMethod::PreSpecified(ski.to_vec());
    }
    let pair = root_key.rcgen_pair()?;
    let issuer = rcgen::Issuer::new(issuer_params, &pair);
    let mut params = CertificateParams::default();
    params.distinguished_name = name(&format!("tickchain TSA {node_name}"));
    params.is_ca = IsCa::ExplicitNoCa;
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    params.custom_extensions = vec![time_stamping_eku()];
    params.use_authority_key_identifier_extension = true;
    let mut serial = root_key.random::<16>().map_err(PkiError::Crypto)?;
    serial[0] &= 0x7f;
    params.serial_number = Some(rcgen::SerialNumber::from_slice(&serial));
    validity(&mut params, now, NODE_DAYS);
    // Never valid after the root.
    let (_, root_until) = root_cert.validity();
    let (y, m, d) = der::civil_date(root_until.saturating_sub(86_400));
    let root_end = rcgen::date_time_ymd(y.min(9999) as i32, m as u8, d as u8);
    if params.not_after > root_end {
        params.not_after = root_end;
    }
    let cert = params
        .signed_by(&Point(point.to_vec()), &issuer)
        .map_err(|e| PkiError::Crypto(e.to_string()))?;
    let der_bytes = cert.der().to_vec();
    // The issuer name must be the root's subject byte for byte, or no verifier finds the chain.
    let parsed = SignerCertificate::parse(&der_bytes).map_err(|e| chain(e.to_string()))?;
    check_issued_by(&parsed, root_cert)?;
    Ok(der_bytes)
}

/// Checks that `cert` was issued by `root`: names match, and the root's key signed it with
/// ECDSA P-256 and SHA-256.
pub fn check_issued_by(cert: &SignerCertificate, root: &SignerCertificate) -> Result<(), PkiError> {
    let chain = |m: &str| PkiError::Chain(m.to_string());
    if cert.issuer() != root.subject() {
        return Err(chain("its issuer is not the genesis TSA root's subject"));
    }
    if let (Some(aki), Some(ski)) = (cert.authority_key_id(), root.subject_key_id())
        && aki != ski
    {
        return Err(chain(
            "its authority key identifier is not the genesis TSA root's subject key identifier",
        ));
    }
    let ecdsa_sha256 = der::constructed(
        der::SEQUENCE,
        &[&der::tlv(
            der::OID,
            tickchain_sdk::rfc3161::ECDSA_SHA256_OID,
        )],
    );
    if cert.signature_algorithm() != ecdsa_sha256.as_slice() {
        return Err(chain("it is not signed with ecdsa-with-SHA256"));
    }
    let root_point = root
        .public_key()
        .map_err(|_| chain("the root's public key does not decode"))?;
    UnparsedPublicKey::new(&ECDSA_P256_SHA256_ASN1, root_point)
        .verify(cert.tbs(), cert.signature())
        .map_err(|_| chain("the genesis TSA root's signature on it does not verify"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_issued_certificate_chains_to_its_root_and_no_other() {
        let now = 1_800_000_000;
        let (root_key, root_der) = new_root("test", now).unwrap();
        let root = SignerCertificate::parse(&root_der).unwrap();
        let node = TsaKey::generate().unwrap();
        let cert_der = issue(&root_key, &root, "node-0", node.public_point(), now).unwrap();
        let cert = SignerCertificate::parse(&cert_der).unwrap();
        assert_eq!(cert.public_key().unwrap(), node.public_point());
        check_issued_by(&cert, &root).unwrap();
        let (_, other_der) = new_root("test", now).unwrap();
        let other = SignerCertificate::parse(&other_der).unwrap();
        // Same name, other key: the signature check is what refuses it.
        assert!(matches!(
            check_issued_by(&cert, &other),
            Err(PkiError::Chain(_))
        ));
        // A root key that is not the certificate's is refused before issuing.
        assert!(issue(&node, &root, "x", node.public_point(), now).is_err());
    }

    #[test]
    fn key_files_are_private_and_read_back() {
        let dir = std::env::temp_dir().join(format!("tc-tsa-pki-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let key = TsaKey::generate().unwrap();
        let path = dir.join(KEY_FILE);
        key.write(&path).unwrap();
        assert_eq!(
            TsaKey::read(&path).unwrap().public_point(),
            key.public_point()
        );
        assert!(key.write(&path).is_err(), "a key is never overwritten");
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        assert!(matches!(
            TsaKey::read(&path),
            Err(PkiError::Permissions { .. })
        ));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
