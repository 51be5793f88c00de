//! The parts of an X.509 certificate (RFC 5280 §4.1) a token names its signer by, and the parts
//! a chain check needs.
//!
//! Owns: locating issuer, serial, subject, public key, to-be-signed bytes and signature in a
//! DER certificate. Never: checking a signature (the node checks its certificate against the
//! genesis root with its own crypto) or trusting any field.

use super::der::{self, DerError, Reader};
use sha2::{Digest as _, Sha256};

/// A DER certificate with the offsets of the fields a token copies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignerCertificate {
    der: Vec<u8>,
    tbs: (usize, usize),
    serial: (usize, usize),
    issuer: (usize, usize),
    subject: (usize, usize),
    spki: (usize, usize),
    signature_algorithm: (usize, usize),
    signature: (usize, usize),
    /// `notBefore` and `notAfter`, POSIX seconds.
    validity: (u64, u64),
    /// The `Extensions` SEQUENCE's contents, if any.
    extensions: Option<(usize, usize)>,
}

/// One certificate extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Extension<'a> {
    /// `extnID`, contents octets.
    pub oid: &'a [u8],
    /// `critical`.
    pub critical: bool,
    /// `extnValue`'s contents.
    pub value: &'a [u8],
}

/// `id-ce-basicConstraints` (2.5.29.19).
pub const BASIC_CONSTRAINTS: &[u8] = &[0x55, 0x1d, 0x13];
/// `id-ce-extKeyUsage` (2.5.29.37).
pub const EXT_KEY_USAGE: &[u8] = &[0x55, 0x1d, 0x25];
/// `id-ce-subjectKeyIdentifier` (2.5.29.14).
pub const SUBJECT_KEY_ID: &[u8] = &[0x55, 0x1d, 0x0e];
/// `id-ce-authorityKeyIdentifier` (2.5.29.35).
pub const AUTHORITY_KEY_ID: &[u8] = &[0x55, 0x1d, 0x23];
/// `id-kp-timeStamping` (1.3.6.1.5.5.7.3.8).
pub const TIME_STAMPING: &[u8] = &[0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x03, 0x08];

/// A `Time` (RFC 5280 §4.1.2.5): UTCTime `YYMMDDHHMMSSZ` (years 1950-2049) or GeneralizedTime.
fn time(t: der::Tlv<'_>) -> Result<u64, DerError> {
    match t.tag {
        der::GENERALIZED_TIME => der::parse_generalized_time(t.value),
        0x17 => {
            let v = t.value;
            if v.len() != 13 || !v[..2].iter().all(u8::is_ascii_digit) {
                return Err(DerError::Value("UTCTime is not YYMMDDHHMMSSZ"));
            }
            let yy = (v[0] - b'0') as u32 * 10 + (v[1] - b'0') as u32;
            let century: &[u8] = if yy >= 50 { b"19" } else { b"20" };
            der::parse_generalized_time(&[century, v].concat())
                .map_err(|_| DerError::Value("UTCTime is not YYMMDDHHMMSSZ"))
        }
        _ => Err(DerError::Value(
            "validity time is neither UTCTime nor GeneralizedTime",
        )),
    }
}

fn span(outer: &[u8], inner: &[u8]) -> (usize, usize) {
    let start = inner.as_ptr() as usize - outer.as_ptr() as usize;
    (start, start + inner.len())
}

impl SignerCertificate {
    /// Locates the fields of a DER certificate.
    pub fn parse(der_bytes: &[u8]) -> Result<SignerCertificate, DerError> {
        let cert = der::single(der_bytes, der::SEQUENCE, "Certificate")?;
        let mut c = Reader::new(cert.value);
        let tbs = c.expect(der::SEQUENCE, "tbsCertificate")?;
        let signature_algorithm = c.expect(der::SEQUENCE, "signatureAlgorithm")?;
        let signature = c.expect(der::BIT_STRING, "signatureValue")?;
        c.finish()?;
        let mut t = Reader::new(tbs.value);
        t.optional(0xa0)?; // version
        let serial = t.expect(der::INTEGER, "serialNumber")?;
        t.expect(der::SEQUENCE, "signature")?;
        let issuer = t.expect(der::SEQUENCE, "issuer")?;
        let validity = t.expect(der::SEQUENCE, "validity")?;
        let mut v = Reader::new(validity.value);
        let not_before = time(v.any()?)?;
        let not_after = time(v.any()?)?;
        v.finish()?;
        let subject = t.expect(der::SEQUENCE, "subject")?;
        let spki = t.expect(der::SEQUENCE, "subjectPublicKeyInfo")?;
        t.optional(0x81)?; // issuerUniqueID
        t.optional(0x82)?; // subjectUniqueID
        let extensions = match t.optional(0xa3)? {
            Some(e) => Some(der::single(e.value, der::SEQUENCE, "Extensions")?.value),
            None => None,
        };
        t.finish()?;
        if signature.value.first() != Some(&0) {
            return Err(DerError::Value("signature BIT STRING with unused bits"));
        }
        Ok(SignerCertificate {
            der: der_bytes.to_vec(),
            tbs: span(der_bytes, tbs.whole),
            serial: span(der_bytes, serial.whole),
            issuer: span(der_bytes, issuer.whole),
            subject: span(der_bytes, subject.whole),
            spki: span(der_bytes, spki.whole),
            signature_algorithm: span(der_bytes, signature_algorithm.whole),
            signature: span(der_bytes, &signature.value[1..]),
            validity: (not_before, not_after),
            extensions: extensions.map(|e| span(der_bytes, e)),
        })
    }

    /// `notBefore` and `notAfter`, POSIX seconds.
    pub fn validity(&self) -> (u64, u64) {
        self.validity
    }

    /// Whether POSIX second `at` is within the validity period.
    pub fn valid_at(&self, at: u64) -> bool {
        (self.validity.0..=self.validity.1).contains(&at)
    }

    /// The extensions, in order (none for a version 1 certificate).
    pub fn extensions(&self) -> Result<Vec<Extension<'_>>, DerError> {
        let Some(span) = self.extensions else {
            return Ok(Vec::new());
        };
        let mut r = Reader::new(self.at(span));
        let mut out = Vec::new();
        while !r.is_empty() {
            let ext = r.expect(der::SEQUENCE, "Extension")?;
            let mut x = Reader::new(ext.value);
            let oid = x.expect(der::OID, "extnID")?.value;
            let critical = match x.optional(der::BOOLEAN)? {
                Some(b) => b.value == [0xff],
                None => false,
            };
            let value = x.expect(der::OCTET_STRING, "extnValue")?.value;
            x.finish()?;
            out.push(Extension {
                oid,
                critical,
                value,
            });
        }
        Ok(out)
    }

    /// The extension `oid`, if present.
    pub fn extension(&self, oid: &[u8]) -> Option<Extension<'_>> {
        self.extensions().ok()?.into_iter().find(|e| e.oid == oid)
    }

    /// Whether `basicConstraints` says this is a CA.
    pub fn is_ca(&self) -> bool {
        let Some(bc) = self.extension(BASIC_CONSTRAINTS) else {
            return false;
        };
        let Ok(seq) = der::single(bc.value, der::SEQUENCE, "BasicConstraints") else {
            return true; // unreadable: treat as the more dangerous reading
        };
        seq.value.first() == Some(&der::BOOLEAN) && seq.value.get(2) == Some(&0xff)
    }

    /// Whether `extendedKeyUsage` is present, critical, and exactly `id-kp-timeStamping`
    /// (RFC 3161 §2.3).
    pub fn is_time_stamping_only(&self) -> bool {
        let Some(eku) = self.extension(EXT_KEY_USAGE) else {
            return false;
        };
        let expected = der::constructed(der::SEQUENCE, &[&der::tlv(der::OID, TIME_STAMPING)]);
        eku.critical && eku.value == expected.as_slice()
    }

    /// `subjectKeyIdentifier`'s key identifier, if present.
    pub fn subject_key_id(&self) -> Option<&[u8]> {
        let e = self.extension(SUBJECT_KEY_ID)?;
        Some(
            der::single(e.value, der::OCTET_STRING, "KeyIdentifier")
                .ok()?
                .value,
        )
    }

    /// `authorityKeyIdentifier`'s `keyIdentifier` ([0]), if present.
    pub fn authority_key_id(&self) -> Option<&[u8]> {
        let e = self.extension(AUTHORITY_KEY_ID)?;
        let seq = der::single(e.value, der::SEQUENCE, "AuthorityKeyIdentifier").ok()?;
        let mut r = Reader::new(seq.value);
        Some(r.optional(0x80).ok()??.value)
    }

    fn at(&self, (a, b): (usize, usize)) -> &[u8] {
        &self.der[a..b]
    }

    /// The whole certificate.
    pub fn der(&self) -> &[u8] {
        &self.der
    }
    /// `tbsCertificate`, the bytes the issuer signed.
    pub fn tbs(&self) -> &[u8] {
        self.at(self.tbs)
    }
    /// `serialNumber`, as its INTEGER element.
    pub fn serial(&self) -> &[u8] {
        self.at(self.serial)
    }
    /// `issuer`, as its Name element.
    pub fn issuer(&self) -> &[u8] {
        self.at(self.issuer)
    }
    /// `subject`, as its Name element.
    pub fn subject(&self) -> &[u8] {
        self.at(self.subject)
    }
    /// `subjectPublicKeyInfo`, as its element.
    pub fn spki(&self) -> &[u8] {
        self.at(self.spki)
    }
    /// The public key's BIT STRING contents (for P-256, the uncompressed point).
    pub fn public_key(&self) -> Result<&[u8], DerError> {
        let spki = der::single(self.spki(), der::SEQUENCE, "subjectPublicKeyInfo")?;
        let mut r = Reader::new(spki.value);
        r.expect(der::SEQUENCE, "algorithm")?;
        let key = r.expect(der::BIT_STRING, "subjectPublicKey")?;
        r.finish()?;
        match key.value.split_first() {
            Some((0, point)) => Ok(point),
            _ => Err(DerError::Value("public key BIT STRING with unused bits")),
        }
    }
    /// The outer `signatureAlgorithm` element.
    pub fn signature_algorithm(&self) -> &[u8] {
        self.at(self.signature_algorithm)
    }
    /// The issuer's signature over [`Self::tbs`] (for ECDSA, a DER ECDSA-Sig-Value).
    pub fn signature(&self) -> &[u8] {
        self.at(self.signature)
    }
    /// SHA-256 of the whole certificate (ESS `certHash`).
    pub fn sha256(&self) -> [u8; 32] {
        Sha256::digest(&self.der).into()
    }
}
