//! `tickchain digest`: the SHA-256 a client submits for a document.

use crate::Failure;
use sha2::{Digest as _, Sha256};
use std::io::Read;
use std::path::Path;

/// SHA-256 of a file, streamed (`-` reads standard input).
pub fn sha256_file(path: &Path) -> Result<[u8; 32], Failure> {
    let mut reader: Box<dyn Read> = if path.as_os_str() == "-" {
        Box::new(std::io::stdin().lock())
    } else {
        Box::new(
            std::fs::File::open(path)
                .map_err(|e| Failure::BadInput(format!("cannot read {}: {e}", path.display())))?,
        )
    };
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = reader
            .read(&mut buf)
            .map_err(|e| Failure::BadInput(format!("cannot read {}: {e}", path.display())))?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Ok(hasher.finalize().into())
}

/// Prints `<hex>  <file>` like `sha256sum`.
pub fn run(path: &Path) -> Result<(), Failure> {
    let digest = sha256_file(path)?;
    println!("{}  {}", hex::encode(digest), path.display());
    Ok(())
}
