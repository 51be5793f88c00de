//! `GET /v1/ticks/stream` delivers one server-sent event per finalized tick, in order.

mod support;

use std::io::{BufRead, BufReader};
use std::time::Duration;
use support::{Server, agent};
use tickchain_api::ApiConfig;
use tickchain_api::wire::TickSummary;

#[test]
fn each_finalized_tick_arrives_as_one_tick_event() {
    let s = Server::start(ApiConfig::default());
    let response = agent()
        .get(&format!("{}/v1/ticks/stream", s.url))
        .call()
        .expect("stream opens");
    assert_eq!(response.status(), 200);
    let ct = response
        .headers()
        .get("content-type")
        .unwrap()
        .to_str()
        .unwrap();
    assert_eq!(ct, "text/event-stream");
    let node = s.node.clone();
    std::thread::spawn(move || {
        for _ in 0..3 {
            std::thread::sleep(Duration::from_millis(100));
            node.finalize_tick();
        }
    });
    let mut lines = BufReader::new(response.into_body().into_reader()).lines();
    let mut events: Vec<(String, String, TickSummary)> = Vec::new();
    let (mut name, mut id) = (String::new(), String::new());
    while events.len() < 3 {
        let line = lines.next().expect("stream open").expect("line");
        if let Some(v) = line.strip_prefix("event: ") {
            name = v.to_owned();
        } else if let Some(v) = line.strip_prefix("id: ") {
            id = v.to_owned();
        } else if let Some(v) = line.strip_prefix("data: ") {
            events.push((
                name.clone(),
                id.clone(),
                serde_json::from_str(v).expect("tick JSON"),
            ));
        }
    }
    for (i, (name, id, tick)) in events.iter().enumerate() {
        assert_eq!(name, "tick");
        assert_eq!(tick.height.0, i as u64 + 1);
        assert_eq!(id, &tick.height.to_string());
    }
}

#[test]
fn shutdown_ends_open_streams_and_serve_returns() {
    let mut s = Server::start(ApiConfig::default());
    let response = agent()
        .get(&format!("{}/v1/ticks/stream", s.url))
        .call()
        .expect("stream opens");
    let reader = std::thread::spawn(move || {
        let mut body = String::new();
        std::io::Read::read_to_string(&mut response.into_body().into_reader(), &mut body).is_ok()
    });
    std::thread::sleep(Duration::from_millis(100));
    assert!(
        s.stop(Duration::from_secs(5)),
        "serve returned despite an open stream"
    );
    assert!(reader.join().unwrap(), "the stream ended cleanly");
}
