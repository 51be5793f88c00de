//! Node identity keys on disk: generated from OS randomness, stored with mode 0600.
//!
//! Owns: the secret key file format (64 lowercase hex characters and a newline) and its
//! permission checks, for the Ed25519 identity key (`node.key`) and the 32-byte secp256k1
//! attestation key (`attest.key`) alike. Never: prints or logs secret bytes.

use ed25519_dalek::SigningKey;
use std::io::Write;
use std::path::Path;

/// Why a key file could not be written or read.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// File system error.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The error.
        source: std::io::Error,
    },
    /// The file is readable by group or others.
    #[error("{path}: secret key file has mode {mode:o}; expected 600 (run: chmod 600 {path})")]
    Permissions {
        /// The file.
        path: String,
        /// Its permission bits.
        mode: u32,
    },
    /// The file does not hold a key.
    #[error("{path}: expected 64 hex characters of Ed25519 secret key")]
    Format {
        /// The file.
        path: String,
    },
    /// The file holds 32 bytes that are not a valid secp256k1 secret (zero or above the order).
    #[error("{path}: expected a secp256k1 secret key below the curve order")]
    Secp256k1 {
        /// The file.
        path: String,
    },
    /// The OS random source failed.
    #[error("OS randomness unavailable: {0}")]
    Random(String),
}

/// A fresh Ed25519 key from OS randomness.
pub fn generate() -> Result<SigningKey, KeyError> {
    let mut seed = [0u8; 32];
    getrandom::getrandom(&mut seed).map_err(|e| KeyError::Random(e.to_string()))?;
    Ok(SigningKey::from_bytes(&seed))
}

/// Writes `key` to a new file at `path` with mode 0600 (fails if the file exists).
pub fn write_secret(path: &Path, key: &SigningKey) -> Result<(), KeyError> {
    write_secret_bytes(path, &key.to_bytes())
}

/// A fresh secp256k1 attestation key from OS randomness (retrying the ~2^-128 chance of a
/// scalar at or above the curve order).
pub fn generate_attestation() -> Result<crate::attest::AttestationSigner, KeyError> {
    loop {
        let mut secret = [0u8; 32];
        getrandom::getrandom(&mut secret).map_err(|e| KeyError::Random(e.to_string()))?;
        if let Ok(key) = crate::attest::AttestationSigner::from_secret(&secret) {
            return Ok(key);
        }
    }
}

/// Writes an attestation key (`attest.key`) to a new file with mode 0600.
pub fn write_attestation(
    path: &Path,
    key: &crate::attest::AttestationSigner,
) -> Result<(), KeyError> {
    write_secret_bytes(path, &key.secret_bytes())
}

/// Reads an attestation key, refusing files readable by group or others.
pub fn read_attestation(path: &Path) -> Result<crate::attest::AttestationSigner, KeyError> {
    let bytes = read_secret_bytes(path)?;
    crate::attest::AttestationSigner::from_secret(&bytes).map_err(|_| KeyError::Secp256k1 {
        path: path.display().to_string(),
    })
}

fn write_secret_bytes(path: &Path, secret: &[u8; 32]) -> Result<(), KeyError> {
    let io = |source| KeyError::Io {
        path: path.display().to_string(),
        source,
    };
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut file = opts.open(path).map_err(io)?;
    writeln!(file, "{}", hex::encode(secret)).map_err(io)?;
    file.sync_all().map_err(io)
}

/// Reads a secret key, refusing files readable by group or others.
pub fn read_secret(path: &Path) -> Result<SigningKey, KeyError> {
    read_secret_bytes(path).map(|b| SigningKey::from_bytes(&b))
}

fn read_secret_bytes(path: &Path) -> Result<[u8; 32], KeyError> {
    let shown = path.display().to_string();
    let io = |source| KeyError::Io {
        path: shown.clone(),
        source,
    };
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(path).map_err(io)?.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            return Err(KeyError::Permissions {
                path: shown.clone(),
                mode,
            });
        }
    }
    let text = std::fs::read_to_string(path).map_err(io)?;
    crate::bytes::decode_hex::<32>(text.trim()).map_err(|_| KeyError::Format {
        path: shown.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn written_keys_are_mode_0600_and_read_back() {
        let dir = std::env::temp_dir().join(format!("tc-keys-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("node.key");
        let _ = std::fs::remove_file(&path);
        let key = generate().unwrap();
        write_secret(&path, &key).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600);
        }
        assert_eq!(read_secret(&path).unwrap().to_bytes(), key.to_bytes());
        assert!(write_secret(&path, &key).is_err(), "never overwrites a key");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn attestation_keys_are_mode_0600_and_read_back() {
        let dir = std::env::temp_dir().join(format!("tc-keys-attest-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("attest.key");
        let _ = std::fs::remove_file(&path);
        let key = generate_attestation().unwrap();
        write_attestation(&path, &key).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600);
        }
        assert_eq!(read_attestation(&path).unwrap().address(), key.address());
        assert!(
            write_attestation(&path, &key).is_err(),
            "never overwrites a key"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[cfg(unix)]
    #[test]
    fn group_readable_key_files_are_refused() {
        use std::os::unix::fs::PermissionsExt;
        let dir = std::env::temp_dir().join(format!("tc-keys-perm-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("node.key");
        let _ = std::fs::remove_file(&path);
        write_secret(&path, &generate().unwrap()).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o640)).unwrap();
        let err = read_secret(&path).unwrap_err();
        assert!(
            matches!(err, KeyError::Permissions { mode: 0o640, .. }),
            "{err}"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
