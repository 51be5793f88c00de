//! Reads the Ed25519 public key out of a peer's X.509 certificate (RFC 5280 §4.1, RFC 8410 §4).
//!
//! Owns: a minimal DER walk to `tbsCertificate.subjectPublicKeyInfo`. Never: trusts anything
//! else in the certificate — the TLS handshake signature is checked by rustls against the same
//! field, and the key is then compared with genesis.

/// DER of an Ed25519 SubjectPublicKeyInfo up to the key: SEQUENCE { SEQUENCE { OID 1.3.101.112 },
/// BIT STRING (33 bytes: 0 unused bits, then the 32-byte key) } (RFC 8410 §4).
pub const ED25519_SPKI_PREFIX: [u8; 12] = [
    0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00,
];

/// Why a certificate did not yield an Ed25519 key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SpkiError {
    /// The DER structure ended early or had a bad length.
    #[error("malformed certificate DER at {0}")]
    Malformed(&'static str),
    /// The key is not Ed25519.
    #[error("certificate key is not Ed25519")]
    NotEd25519,
}

/// One DER element: (tag, contents, rest). Lengths up to 4 bytes (long form) are accepted.
fn tlv<'a>(input: &'a [u8], what: &'static str) -> Result<(u8, &'a [u8], &'a [u8]), SpkiError> {
    let err = SpkiError::Malformed(what);
    let (&tag, rest) = input.split_first().ok_or(err.clone())?;
    let (&first, mut rest) = rest.split_first().ok_or(err.clone())?;
    let len = if first < 0x80 {
        first as usize
    } else {
        let n = (first & 0x7f) as usize;
        if n == 0 || n > 4 || rest.len() < n {
            return Err(err);
        }
        let mut len = 0usize;
        for &b in &rest[..n] {
            len = (len << 8) | b as usize;
        }
        rest = &rest[n..];
        len
    };
    if rest.len() < len {
        return Err(err);
    }
    Ok((tag, &rest[..len], &rest[len..]))
}

/// The whole DER element (tag, length and contents) at the start of `input`.
fn element<'a>(input: &'a [u8], what: &'static str) -> Result<(u8, &'a [u8], &'a [u8]), SpkiError> {
    let (tag, contents, rest) = tlv(input, what)?;
    let whole = &input[..input.len() - rest.len()];
    debug_assert!(whole.ends_with(contents));
    Ok((tag, whole, rest))
}

/// The Ed25519 key in `cert_der`'s subjectPublicKeyInfo.
pub fn ed25519_key(cert_der: &[u8]) -> Result<[u8; 32], SpkiError> {
    const SEQUENCE: u8 = 0x30;
    let (tag, cert, _) = tlv(cert_der, "certificate")?;
    if tag != SEQUENCE {
        return Err(SpkiError::Malformed("certificate"));
    }
    let (tag, mut tbs, _) = tlv(cert, "tbsCertificate")?;
    if tag != SEQUENCE {
        return Err(SpkiError::Malformed("tbsCertificate"));
    }
    // [0] EXPLICIT version is optional.
    if tbs.first() == Some(&0xa0) {
        tbs = tlv(tbs, "version")?.2;
    }
    for field in ["serialNumber", "signature", "issuer", "validity", "subject"] {
        tbs = tlv(tbs, field)?.2;
    }
    let (tag, spki, _) = element(tbs, "subjectPublicKeyInfo")?;
    if tag != SEQUENCE {
        return Err(SpkiError::Malformed("subjectPublicKeyInfo"));
    }
    if spki.len() != 44 || spki[..12] != ED25519_SPKI_PREFIX {
        return Err(SpkiError::NotEd25519);
    }
    Ok(spki[12..].try_into().expect("44 - 12 = 32 bytes"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn openssl_certificates_yield_their_ed25519_key_and_reject_other_key_types() {
        // Made with `openssl req -x509 -newkey ed25519 …`; the key as openssl reports it.
        let ed = include_bytes!("../../../fuzz/seeds/peer_cert_spki/openssl-ed25519.der");
        let expected = "5e0570917fc81b946dc2bbfa9050295d1fc750e4f8ca4dcd5c4e1f41ee7df30d";
        assert_eq!(hex::encode(ed25519_key(ed).unwrap()), expected);
        let p256 = include_bytes!("../../../fuzz/seeds/peer_cert_spki/openssl-p256.der");
        assert_eq!(ed25519_key(p256), Err(SpkiError::NotEd25519));
    }

    #[test]
    fn truncated_and_garbage_certificates_are_errors_not_panics() {
        assert!(ed25519_key(&[]).is_err());
        assert!(ed25519_key(&[0x30, 0x84, 0xff, 0xff, 0xff, 0xff]).is_err());
        assert!(ed25519_key(&[0x30, 0x03, 0x30, 0x01]).is_err());
        for n in 0..64u8 {
            let _ = ed25519_key(&[0x30, n, 0x30, n, 0xa0, 0x01, 0x02]);
        }
    }
}
