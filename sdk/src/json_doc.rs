//! Reading one JSON document (a proof, a genesis, a piece of evidence) strictly.
//!
//! Owns: the rule that a document is exactly one JSON value, and the error's field path.
//! Never: the schema (each type's serde derive) or size limits (each caller's).

use serde::de::DeserializeOwned;

/// Where a document failed and why: the field path (`.` for the whole) and the message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct DocError {
    /// serde_path_to_error's path of the failing field.
    pub path: String,
    /// What was wrong.
    pub message: String,
}

/// Parses `text` as exactly one `T`: anything but whitespace after it is an error, not ignored.
pub(crate) fn parse<T: DeserializeOwned>(text: &str) -> Result<T, DocError> {
    let de = &mut serde_json::Deserializer::from_str(text);
    let value = serde_path_to_error::deserialize(&mut *de).map_err(|e| DocError {
        path: e.path().to_string(),
        message: e.inner().to_string(),
    })?;
    de.end().map_err(|e| DocError {
        path: ".".into(),
        message: e.to_string(),
    })?;
    Ok(value)
}
