//! `tickchain verify-evidence`: checks one piece of misbehaviour evidence offline against the
//! network's genesis (`specs/evidence.md` §3).

use crate::Failure;
use crate::text::{read, read_genesis};
use std::path::Path;
use tickchain_sdk::evidence::{Evidence, Statement};
use tickchain_sdk::{EvidenceError, VerifiedEvidence};

/// `--json` output: the verified result and both statements.
#[derive(serde::Serialize)]
struct JsonOut<'a> {
    #[serde(flatten)]
    verified: &'a VerifiedEvidence,
    first: &'a Statement,
    second: &'a Statement,
}

/// Verifies the evidence in `path` (its JSON form, as `GET /v1/evidence` serves each element)
/// against `genesis_path` and prints who broke which rule with which two statements.
pub fn run(path: &Path, genesis_path: &Path, json: bool) -> Result<(), Failure> {
    let bytes = read(path)?;
    let text = std::str::from_utf8(&bytes).map_err(|_| {
        Failure::BadInput(format!("{}: evidence is not UTF-8 JSON", path.display()))
    })?;
    let evidence = Evidence::from_json(text)
        .map_err(|e| Failure::BadInput(format!("{}: {e}", path.display())))?;
    let genesis = read_genesis(genesis_path)?;
    let verified = evidence
        .verify(&genesis)
        .map_err(|e: EvidenceError| Failure::Invalid(format!("{}: {e}", e.code())))?;
    if json {
        let out = JsonOut {
            verified: &verified,
            first: &evidence.first,
            second: &evidence.second,
        };
        println!(
            "{}",
            serde_json::to_string_pretty(&out).expect("result serializes")
        );
        return Ok(());
    }
    println!(
        "member  {} ({})\nrule    {}\nview    {}\nfirst   {}\nsecond  {}\nvalid evidence",
        verified.member,
        verified.name,
        verified.rule,
        verified.view,
        describe(&evidence.first),
        describe(&evidence.second),
    );
    Ok(())
}

/// One line per statement: kind, tick, reading and signature.
fn describe(s: &Statement) -> String {
    match s.tick() {
        Some((hash, r)) => format!(
            "{} on tick {} reading [{}, {}] signature {}",
            s.kind().code(),
            hash,
            r.earliest.0,
            r.latest.0,
            s.signature()
        ),
        None => format!("{} signature {}", s.kind().code(), s.signature()),
    }
}
