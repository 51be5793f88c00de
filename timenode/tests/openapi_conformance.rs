//! The OpenAPI document is exact: schemathesis (pinned in `scripts/requirements-test.txt`,
//! installed in `.venv-tests/` by `scripts/install-deps`) generates requests from a real node's
//! `/openapi.json`, valid and invalid, and runs every check it has (`--checks all`): no 5xx,
//! every answer's status, content type, headers and body conform to the document, schema-valid
//! requests are accepted and schema-invalid ones refused.

mod ringkit;

use ringkit::{setup, start_all};
use std::path::Path;
use std::process::Command;
use std::time::Duration;

#[test]
fn schemathesis_finds_no_mismatch_with_the_openapi_document() {
    let tool = Path::new(env!("CARGO_MANIFEST_DIR")).join("../.venv-tests/bin/schemathesis");
    assert!(
        tool.exists(),
        "schemathesis is missing at {}: run scripts/install-deps",
        tool.display()
    );
    let root = std::env::temp_dir().join(format!("tc-openapi-{}", std::process::id()));
    let (_, mut nodes) = setup(&root, 4);
    start_all(&mut nodes, 2, Duration::from_secs(20));
    let examples = std::env::var("TICKCHAIN_SCHEMATHESIS_EXAMPLES").unwrap_or("40".into());
    // TICKCHAIN_SCHEMATHESIS_ARGS: more arguments, e.g. `--report vcr --report-dir /tmp/st`
    // to keep every exchange for a failure that needs reading.
    let extra = std::env::var("TICKCHAIN_SCHEMATHESIS_ARGS").unwrap_or_default();
    // The binary body's one rule (a multiple of 32 bytes) has no OpenAPI form, so schemathesis
    // would call its arbitrary bytes schema-valid: the document is tested without that media
    // type (the node's document keeps it); api/tests/errors.rs tests the binary body.
    let mut doc: serde_json::Value = serde_json::from_str(
        &tickchain_sdk::client::Client::new(&nodes[0].api)
            .get_text("/openapi.json")
            .expect("GET /openapi.json"),
    )
    .expect("the document is JSON");
    let content = doc
        .pointer_mut("/paths/~1v1~1timestamps/post/requestBody/content")
        .and_then(|c| c.as_object_mut())
        .expect("the stamp route takes a body");
    assert!(
        content.remove("application/octet-stream").is_some(),
        "the document lists the binary body"
    );
    std::fs::create_dir_all(&root).unwrap();
    let schema = root.join("openapi.json");
    std::fs::write(&schema, doc.to_string()).unwrap();
    let out = Command::new(&tool)
        .arg("run")
        .args(extra.split_whitespace())
        .args([
            schema.to_str().unwrap(),
            "--url",
            &nodes[0].api,
            "--checks",
            "all",
            "--max-examples",
            &examples,
            // An endless event stream; its limits are tested in api/tests/abuse.rs.
            "--exclude-path",
            "/v1/ticks/stream",
            // DER bodies (application/timestamp-query), which schemathesis cannot generate;
            // the route is tested with openssl's requests and hostile DER in tests/tsa.rs and
            // by the fuzz target tsa_der.
            "--exclude-path",
            "/v1/tsa",
            "--seed",
            "1",
            "--no-color",
        ])
        .env("SCHEMATHESIS_HOOKS", "")
        .output()
        .expect("run schemathesis");
    let report = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    for n in &mut nodes {
        n.sigterm();
    }
    let _ = std::fs::remove_dir_all(&root);
    assert!(
        out.status.success(),
        "schemathesis found mismatches:\n{report}"
    );
    eprintln!("{report}");
}
