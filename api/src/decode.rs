//! Decoding of untrusted request bodies and parameters into typed values.
//!
//! Owns: every check between bytes from a client and a `Digest`. Never: panics or allocation
//! beyond the (already size-capped) input; fuzzed by `fuzz/fuzz_targets/api_request_body.rs`.

use crate::error::ApiError;
use crate::wire::StampRequest;
use tickchain_sdk::{Digest, HexError};

/// Decodes a `POST /v1/timestamps` body: `{"digests": ["<64 hex>", ...]}` with 1 to
/// `max_digests` entries.
pub fn decode_stamp_body(body: &[u8], max_digests: usize) -> Result<Vec<Digest>, ApiError> {
    let de = &mut serde_json::Deserializer::from_slice(body);
    let request: StampRequest = serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        ApiError::BadJson(format!(
            "expected {{\"digests\": [\"<64 hex>\", ...]}}; at {path}: {}",
            e.inner()
        ))
    })?;
    check_count(request.digests.len(), max_digests)?;
    request
        .digests
        .iter()
        .enumerate()
        .map(|(i, s)| decode_digest(s).map_err(|e| e.at(&format!("digests[{i}]"))))
        .collect()
}

/// The media types a `POST /v1/timestamps` body may have.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StampBody {
    /// `application/json`: `{"digests": ["<64 hex>", ...]}`.
    Json,
    /// `application/octet-stream`: the digests' 32 bytes each, back to back.
    Binary,
}

impl StampBody {
    /// The kind a `Content-Type` value names (any parameters, any case), if it is one.
    pub fn of(content_type: &str) -> Option<StampBody> {
        let media = content_type.split(';').next()?.trim();
        [
            ("application/json", StampBody::Json),
            ("application/octet-stream", StampBody::Binary),
        ]
        .into_iter()
        .find_map(|(name, kind)| media.eq_ignore_ascii_case(name).then_some(kind))
    }

    /// Decodes a body of this kind into 1 to `max_digests` digests.
    pub fn decode(self, body: &[u8], max_digests: usize) -> Result<Vec<Digest>, ApiError> {
        match self {
            StampBody::Json => decode_stamp_body(body, max_digests),
            StampBody::Binary => decode_binary_stamp_body(body, max_digests),
        }
    }
}

/// Decodes an `application/octet-stream` `POST /v1/timestamps` body: 1 to `max_digests`
/// digests of 32 bytes each, back to back, nothing else.
pub fn decode_binary_stamp_body(body: &[u8], max_digests: usize) -> Result<Vec<Digest>, ApiError> {
    if !body.len().is_multiple_of(32) {
        return Err(ApiError::WrongLength(format!(
            "a binary body is 32-byte digests back to back; {} bytes is not a multiple of 32",
            body.len()
        )));
    }
    check_count(body.len() / 32, max_digests)?;
    Ok(body
        .chunks_exact(32)
        .map(|c| Digest(c.try_into().expect("32 bytes")))
        .collect())
}

/// A body carries 1 to `max_digests` digests.
fn check_count(n: usize, max_digests: usize) -> Result<(), ApiError> {
    if n == 0 {
        return Err(ApiError::NoDigests);
    }
    if n > max_digests {
        return Err(ApiError::TooManyDigests {
            found: n,
            max: max_digests,
        });
    }
    Ok(())
}

/// Decodes one digest (path parameter or body entry).
pub fn decode_digest(s: &str) -> Result<Digest, ApiError> {
    Digest::from_hex(s).map_err(|e| match e {
        HexError::NotHex { .. } => ApiError::BadHex(format!("digest: {e}")),
        HexError::Length { .. } => ApiError::WrongLength(format!("digest: {e}")),
    })
}

impl ApiError {
    /// Names the field an error came from (`digests[3]: ...`).
    fn at(self, field: &str) -> ApiError {
        match self {
            ApiError::BadHex(m) => ApiError::BadHex(m.replacen("digest", field, 1)),
            ApiError::WrongLength(m) => ApiError::WrongLength(m.replacen("digest", field, 1)),
            other => other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_malformation_has_its_own_code() {
        let code = |body: &str| decode_stamp_body(body.as_bytes(), 2).unwrap_err().code();
        assert_eq!(code("{"), "bad_json");
        assert_eq!(code(r#"{"digests": [], "x": 1}"#), "bad_json");
        assert_eq!(code(r#"{"digests": []}"#), "no_digests");
        assert_eq!(code(r#"{"digests": ["zz"]}"#), "bad_hex");
        assert_eq!(code(r#"{"digests": ["abcd"]}"#), "wrong_length");
        assert_eq!(code(r#"{"digests": ["", "", ""]}"#), "too_many_digests");
    }

    #[test]
    fn errors_name_the_offending_entry() {
        let ok = "ab".repeat(32);
        let body = format!(r#"{{"digests": ["{ok}", "abc"]}}"#);
        let e = decode_stamp_body(body.as_bytes(), 10).unwrap_err();
        assert!(e.to_string().starts_with("digests[1]: expected 64"), "{e}");
    }

    #[test]
    fn a_binary_body_is_digests_back_to_back_and_each_malformation_has_its_code() {
        let body: Vec<u8> = (0u8..64).collect();
        let ds = decode_binary_stamp_body(&body, 2).unwrap();
        assert_eq!(ds.len(), 2);
        assert_eq!(ds[1].0[0], 32);
        let code = |b: &[u8], max| decode_binary_stamp_body(b, max).unwrap_err().code();
        assert_eq!(code(&[], 2), "no_digests");
        assert_eq!(code(&body[..63], 2), "wrong_length");
        assert_eq!(code(&body, 1), "too_many_digests");
    }

    #[test]
    fn stamp_body_kinds_follow_the_content_type() {
        assert_eq!(StampBody::of("application/json"), Some(StampBody::Json));
        assert_eq!(
            StampBody::of("Application/Octet-Stream; x=1"),
            Some(StampBody::Binary)
        );
        assert_eq!(StampBody::of("text/plain"), None);
        assert_eq!(StampBody::of(""), None);
    }

    #[test]
    fn json_content_types_are_recognised() {
        assert_eq!(StampBody::of("application/json"), Some(StampBody::Json));
        assert_eq!(
            StampBody::of("Application/JSON; charset=utf-8"),
            Some(StampBody::Json)
        );
        assert_eq!(StampBody::of("text/plain"), None);
    }
}
