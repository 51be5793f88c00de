//! `/openapi.json` is an OpenAPI 3.x document that lists every route the router serves, and
//! every route it lists is served; every schema reference resolves.

mod support;

use support::{Server, get, request};
use tickchain_api::ApiConfig;

/// Every route of the router (method, path); the document must list each one.
const ROUTES: &[(&str, &str)] = &[
    ("post", "/v1/timestamps"),
    ("get", "/v1/proofs/{digest}"),
    ("post", "/v1/tsa"),
    ("get", "/v1/ticks/latest"),
    ("get", "/v1/ticks/{height}"),
    ("get", "/v1/ticks"),
    ("get", "/v1/ticks/stream"),
    ("get", "/v1/time"),
    ("get", "/v1/network"),
    ("get", "/v1/evidence"),
    ("get", "/v1/history"),
    ("get", "/v1/genesis"),
    ("get", "/v1/anchors"),
    ("get", "/metrics"),
    ("get", "/healthz"),
    ("get", "/openapi.json"),
];

#[test]
fn the_document_is_openapi_3_and_lists_every_route() {
    let s = Server::start(ApiConfig::default());
    let r = get(&format!("{}/openapi.json", s.url));
    assert_eq!(r.status, 200);
    let doc = r.json();
    assert!(
        doc["openapi"].as_str().unwrap().starts_with("3."),
        "{}",
        doc["openapi"]
    );
    assert!(doc["info"]["title"].is_string());
    let parsed: utoipa::openapi::OpenApi =
        serde_json::from_str(&r.body).expect("parses as OpenAPI");
    assert_eq!(parsed.paths.paths.len(), ROUTES.len());
    for (method, path) in ROUTES {
        let op = &doc["paths"][path][method];
        assert!(op.is_object(), "{method} {path} missing from the document");
        assert!(
            op["responses"].is_object(),
            "{method} {path} has no responses"
        );
    }
}

#[test]
fn every_documented_operation_is_served() {
    let s = Server::start(ApiConfig::default());
    let doc = get(&format!("{}/openapi.json", s.url)).json();
    for (path, ops) in doc["paths"].as_object().unwrap() {
        if path == "/v1/ticks/stream" {
            continue; // never completes; covered by tests/stream.rs
        }
        for method in ops.as_object().unwrap().keys() {
            let concrete = path
                .replace("{digest}", &"00".repeat(32))
                .replace("{height}", "1");
            let r = request(&method.to_uppercase(), &format!("{}{concrete}", s.url));
            assert!(
                r.status != 405 && !(r.status == 404 && r.body.contains("no route")),
                "{method} {path}: {} {}",
                r.status,
                r.body
            );
        }
    }
}

/// The documented fields of the time statement are exactly the serialized ones.
#[test]
fn the_documented_time_schema_matches_the_real_json() {
    let s = Server::start(ApiConfig::default());
    s.node.finalize_tick();
    let doc = get(&format!("{}/openapi.json", s.url)).json();
    let time = get(&format!("{}/v1/time?nonce=01", s.url)).json();
    let keys = |v: &serde_json::Value| {
        let mut k: Vec<String> = v.as_object().unwrap().keys().cloned().collect();
        k.sort();
        k
    };
    let schemas = &doc["components"]["schemas"];
    for (name, value) in [
        ("SignedTime", &time),
        ("TimeStatement", &time["statement"]),
        ("SourceSummary", &time["statement"]["sources"][0]),
        ("TickRef", &time["statement"]["latest_tick"]),
    ] {
        assert_eq!(keys(&schemas[name]["properties"]), keys(value), "{name}");
    }
}

/// The documented fields of evidence are exactly the served ones.
#[test]
fn the_documented_evidence_schema_matches_the_real_json() {
    let s = Server::start(ApiConfig::default());
    s.node.record_evidence(5);
    let doc = get(&format!("{}/openapi.json", s.url)).json();
    let body = get(&format!("{}/v1/evidence", s.url)).json();
    let keys = |v: &serde_json::Value| {
        let mut k: Vec<String> = v.as_object().unwrap().keys().cloned().collect();
        k.sort();
        k
    };
    let schemas = &doc["components"]["schemas"];
    let e = &body["evidence"][0];
    for (name, value) in [
        ("EvidenceBody", &body),
        ("Evidence", e),
        ("Statement", &e["first"]),
        ("ClockReading", &e["first"]["reading"]),
    ] {
        assert_eq!(keys(&schemas[name]["properties"]), keys(value), "{name}");
    }
}

/// Query parameters are documented in the query, path parameters in the path, and the bounds
/// the handlers enforce with this node's settings are the documented ones.
#[test]
fn parameters_are_where_and_as_large_as_the_handlers_take_them() {
    let s = Server::start(ApiConfig {
        max_digests: 7,
        max_tick_page: 9,
        ..ApiConfig::default()
    });
    let doc = get(&format!("{}/openapi.json", s.url)).json();
    let param = |path: &str, method: &str, name: &str| {
        doc["paths"][path][method]["parameters"]
            .as_array()
            .unwrap_or_else(|| panic!("{method} {path} has parameters"))
            .iter()
            .find(|p| p["name"] == name)
            .unwrap_or_else(|| panic!("{method} {path} documents {name}"))
            .clone()
    };
    for (path, method, name, at) in [
        ("/v1/timestamps", "post", "wait", "query"),
        ("/v1/ticks", "get", "from", "query"),
        ("/v1/ticks", "get", "limit", "query"),
        ("/v1/evidence", "get", "limit", "query"),
        ("/v1/time", "get", "nonce", "query"),
        ("/v1/proofs/{digest}", "get", "digest", "path"),
        ("/v1/ticks/{height}", "get", "height", "path"),
    ] {
        assert_eq!(
            param(path, method, name)["in"],
            at,
            "{method} {path} {name}"
        );
    }
    assert_eq!(param("/v1/ticks", "get", "limit")["schema"]["maximum"], 9);
    assert_eq!(
        param("/v1/evidence", "get", "limit")["schema"]["minimum"],
        1
    );
    let digest = param("/v1/proofs/{digest}", "get", "digest");
    assert_eq!(digest["schema"]["maxLength"], 64);
    let digests = &doc["components"]["schemas"]["StampRequest"]["properties"]["digests"];
    assert_eq!(
        (&digests["minItems"], &digests["maxItems"]),
        (&1.into(), &7.into())
    );
}
