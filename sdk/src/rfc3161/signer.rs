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
        t.expect(der::SEQUENCE, "validity")?;
        let subject = t.expect(der::SEQUENCE, "subject")?;
        let spki = t.expect(der::SEQUENCE, "subjectPublicKeyInfo")?;
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
        })
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
