//! Fuzz-style properties of the request body decoder: arbitrary bytes or JSON never panic and
//! never yield a server error; well-formed bodies always decode.

mod support;

use proptest::prelude::*;
use tickchain_api::decode_stamp_body;

fn json_value() -> impl Strategy<Value = serde_json::Value> {
    let leaf = prop_oneof![
        Just(serde_json::Value::Null),
        any::<bool>().prop_map(Into::into),
        any::<f64>().prop_map(
            |f| serde_json::Number::from_f64(f).map_or(serde_json::Value::Null, Into::into)
        ),
        "[0-9a-fA-Fz]{0,70}".prop_map(Into::into),
        ".{0,8}".prop_map(Into::into),
    ];
    leaf.prop_recursive(3, 32, 8, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..8).prop_map(Into::into),
            prop::collection::hash_map(
                prop_oneof![Just("digests".to_string()), ".{0,6}"],
                inner,
                0..4
            )
            .prop_map(|m| serde_json::Value::Object(m.into_iter().collect())),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2_000))]

    #[test]
    fn arbitrary_bytes_are_rejected_as_client_errors_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        if let Err(e) = decode_stamp_body(&bytes, 100) {
            prop_assert!(e.status().is_client_error(), "{e:?}");
        }
    }

    #[test]
    fn arbitrary_json_is_rejected_as_client_errors_never_panics(value in json_value(), wrap in any::<bool>()) {
        let value = if wrap { serde_json::json!({ "digests": value }) } else { value };
        let bytes = serde_json::to_vec(&value).unwrap();
        match decode_stamp_body(&bytes, 100) {
            Ok(digests) => prop_assert!(!digests.is_empty() && digests.len() <= 100),
            Err(e) => prop_assert!(e.status().is_client_error(), "{e:?}"),
        }
    }

    #[test]
    fn well_formed_bodies_decode_to_the_same_digests(raw in prop::collection::vec(any::<[u8; 32]>(), 1..50), upper in any::<bool>()) {
        let hex: Vec<String> = raw.iter().map(|d| {
            let h = hex_of(d);
            if upper { h.to_uppercase() } else { h }
        }).collect();
        let body = serde_json::to_vec(&serde_json::json!({ "digests": hex })).unwrap();
        let decoded = decode_stamp_body(&body, 100).unwrap();
        prop_assert_eq!(decoded.iter().map(|d| d.0).collect::<Vec<_>>(), raw);
    }
}

fn hex_of(bytes: &[u8; 32]) -> String {
    tickchain_sdk::Digest(*bytes).to_hex()
}

/// The same inputs through real HTTP: the server answers 4xx, never 5xx.
#[test]
fn arbitrary_bodies_over_http_never_get_a_server_error() {
    let s = support::Server::start(tickchain_api::ApiConfig {
        rate_per_second: 0,
        ..Default::default()
    });
    let url = format!("{}/v1/timestamps", s.url);
    let mut runner = proptest::test_runner::TestRunner::new(ProptestConfig::with_cases(200));
    runner
        .run(&prop::collection::vec(any::<u8>(), 0..256), |bytes| {
            let r = support::post(&url, "application/json", &bytes);
            prop_assert!(r.status < 500, "{} {}", r.status, r.body);
            Ok(())
        })
        .unwrap();
}
