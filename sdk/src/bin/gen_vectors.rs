//! `gen-vectors [DIR]`: writes the normative test vectors (default `specs/vectors`).
//!
//! The vectors are deterministic; `cargo test -p tickchain-sdk` fails if the committed files
//! differ from what this writes, so regenerate only on purpose, in the same commit as the code.

use std::path::PathBuf;

fn main() -> std::io::Result<()> {
    let dir = std::env::args_os()
        .nth(1)
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("specs/vectors"));
    let files = tickchain_sdk::vectors::files();
    for (name, bytes) in &files {
        let path = dir.join(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(&path, bytes)?;
    }
    println!("wrote {} files to {}", files.len(), dir.display());
    Ok(())
}
