//! The device log vectors in `specs/vectors/devicelog/` (`specs/devicelog.md` §7): a valid log
//! of two devices and one mutation per rule, each with its expected outcome written by hand.
//!
//! Owns: the cases. Never: decides an outcome by running the verifier.

use super::build::LogBuilder;
use super::entry::{Entry, HeadRef, LogId, stamp_root};
use crate::signing::public_key;
use crate::testkit::{TestNetwork, seeded};
use crate::{Digest, Height, Second, UtcNanos};
use ed25519_dalek::SigningKey;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// One labelled case in `specs/vectors/devicelog.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeviceLogCase {
    /// Case name; the log is `devicelog/<name>.tclog`.
    pub name: String,
    /// What the case shows.
    pub description: String,
    /// Genesis file, relative to the vectors directory.
    pub genesis: String,
    /// Log file, relative to the vectors directory.
    pub log: String,
    /// The audited device's public key (hex).
    pub device: String,
    /// `ok`, or the `LogError` code.
    pub expect: String,
    /// For a failure: the byte offset of the first bad frame it must name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offset: Option<u64>,
    /// For `ok`: the number of records of the device.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub records: Option<u64>,
    /// For `ok`: the highest stamped record of the device.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stamped_through: Option<u64>,
}

/// The key of vector device `name` (public: derived from a published seed).
pub fn device_key(name: &str) -> SigningKey {
    SigningKey::from_bytes(&seeded(&format!("devicelog/device/{name}")))
}

struct Base {
    entries: Vec<Entry>,
    /// Index in `entries` of device A's record `seq`.
    a: Vec<usize>,
    stamps: Vec<usize>,
}

fn base(net: &TestNetwork, rewrite_seq_1: bool) -> Base {
    let (ka, kb) = (device_key("a"), device_key("b"));
    let mut log = LogBuilder::new();
    let ca = log.chain(
        &ka,
        LogId(seeded("devicelog/log/a")[..16].try_into().expect("16")),
    );
    let cb = log.chain(
        &kb,
        LogId(seeded("devicelog/log/b")[..16].try_into().expect("16")),
    );
    let start = net.genesis.genesis_second.0 + 10;
    let at = |i: i64| UtcNanos(start as i64 * 1_000_000_000 + i * 300_000_000);
    let mut a = Vec::new();
    let mut stamps = Vec::new();
    let rec = |log: &mut LogBuilder, a: &mut Vec<usize>, seq: i64| {
        let text = if rewrite_seq_1 && seq == 1 {
            "a 1 temperature 99.9 C".to_owned()
        } else {
            format!("a {seq} temperature {}.{} C", 20 + seq, seq)
        };
        a.push(log.entries.len());
        log.record(ca, &ka, at(seq), text.as_bytes())
    };
    let proof = |heads: &[HeadRef], second: u64, height: u64| {
        net.proof_of(Digest(stamp_root(heads).0), Second(second), Height(height))
            .to_compact()
            .expect("a small proof")
    };
    rec(&mut log, &mut a, 0);
    rec(&mut log, &mut a, 1);
    let b0 = log.record(cb, &kb, at(1), b"b 0 door closed");
    let a2 = rec(&mut log, &mut a, 2);
    stamps.push(log.entries.len());
    let heads = vec![a2, b0];
    log.stamp(heads.clone(), proof(&heads, start + 1, 11));
    rec(&mut log, &mut a, 3);
    rec(&mut log, &mut a, 4);
    let b1 = log.record(cb, &kb, at(4), b"b 1 door open");
    let a5 = rec(&mut log, &mut a, 5);
    stamps.push(log.entries.len());
    let heads = vec![a5, b1];
    log.stamp(heads.clone(), proof(&heads, start + 2, 12));
    rec(&mut log, &mut a, 6);
    Base {
        entries: log.entries,
        a,
        stamps,
    }
}

fn bytes(entries: &[Entry]) -> Vec<u8> {
    let mut out = super::frame::FILE_MAGIC.to_vec();
    for e in entries {
        out.extend(e.to_frame());
    }
    out
}

fn offset_of(entries: &[Entry], index: usize) -> u64 {
    (super::frame::FILE_MAGIC.len()
        + entries[..index]
            .iter()
            .map(|e| e.to_frame().len())
            .sum::<usize>()) as u64
}

/// Every device log vector file: path relative to `specs/vectors/` → contents.
pub fn files(net: &TestNetwork, other: &TestNetwork) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut cases = Vec::new();
    let device = |name: &str| public_key(&device_key(name)).to_hex();
    let mut add = |out: &mut BTreeMap<String, Vec<u8>>,
                   name: &str,
                   who: &str,
                   expect: &str,
                   description: &str,
                   file: Vec<u8>,
                   offset: Option<u64>,
                   ok: Option<(u64, u64)>| {
        let log = format!("devicelog/{name}.tclog");
        out.insert(log.clone(), file);
        cases.push(DeviceLogCase {
            name: name.into(),
            description: description.into(),
            genesis: "genesis-4.json".into(),
            log,
            device: device(who),
            expect: expect.into(),
            offset,
            records: ok.map(|o| o.0),
            stamped_through: ok.map(|o| o.1),
        });
    };
    let b = base(net, false);
    let valid = bytes(&b.entries);
    add(
        &mut out,
        "valid",
        "a",
        "ok",
        "device a: 7 records, stamps at seq 2 and 5 in trees shared with device b; seq 6 not yet stamped",
        valid.clone(),
        None,
        Some((7, 5)),
    );
    add(
        &mut out,
        "valid-other-device",
        "b",
        "ok",
        "the same log audited for device b: 2 records, both stamped",
        valid.clone(),
        None,
        Some((2, 1)),
    );
    add(
        &mut out,
        "wrong-device",
        "c",
        "no_chain",
        "the same log audited for a device that has no chain in it",
        valid.clone(),
        None,
        None,
    );

    let mut torn = valid.clone();
    torn.extend(
        &Entry::Record(match &b.entries[b.a[6]] {
            Entry::Record(r) => crate::devicelog::Record {
                seq: 7,
                ..r.clone()
            },
            _ => unreachable!("a record"),
        })
        .to_frame()[..20],
    );
    add(
        &mut out,
        "torn-tail",
        "a",
        "ok",
        "the valid log with the first 20 bytes of another record after it (a write cut short): \
         the torn bytes are not part of the log",
        torn,
        None,
        Some((7, 5)),
    );

    let mut damaged = valid.clone();
    let at = offset_of(&b.entries, b.a[1]);
    damaged[at as usize + 20] ^= 0x40;
    add(
        &mut out,
        "damaged-frame",
        "a",
        "damaged_frame",
        "one bit flipped inside record 1's frame, whole frames after it",
        damaged,
        Some(at),
        None,
    );

    let mut e = b.entries.clone();
    if let Entry::Record(r) = &mut e[b.a[3]] {
        r.payload = b"a 3 temperature 18.0 C".to_vec();
    }
    add(
        &mut out,
        "altered-record",
        "a",
        "signature",
        "record 3's payload changed (its frame check recomputed)",
        bytes(&e),
        Some(offset_of(&e, b.a[3])),
        None,
    );

    let mut e = b.entries.clone();
    e.remove(b.a[3]);
    add(
        &mut out,
        "removed-record",
        "a",
        "sequence",
        "record 3 removed: record 4 stands where 3 was expected",
        bytes(&e),
        Some(offset_of(&e, b.a[3])),
        None,
    );

    let mut e = b.entries.clone();
    e.swap(b.a[3], b.a[4]);
    add(
        &mut out,
        "reordered-records",
        "a",
        "sequence",
        "records 3 and 4 swapped",
        bytes(&e),
        Some(offset_of(&e, b.a[3])),
        None,
    );

    let mut e = b.entries.clone();
    let copy = e[b.a[1]].clone();
    e.insert(b.a[4], copy);
    add(
        &mut out,
        "inserted-record",
        "a",
        "sequence",
        "a copy of record 1 inserted before record 4",
        bytes(&e),
        Some(offset_of(&e, b.a[4])),
        None,
    );

    let rewritten = base(net, true);
    let mut e = rewritten.entries.clone();
    e[b.stamps[0]] = b.entries[b.stamps[0]].clone();
    e[b.stamps[1]] = b.entries[b.stamps[1]].clone();
    add(
        &mut out,
        "rewritten-history",
        "a",
        "stamped_head_differs",
        "the device re-signed a history with record 1 changed, keeping the original stamps",
        bytes(&e),
        Some(offset_of(&e, b.stamps[0])),
        None,
    );

    let mut e = b.entries.clone();
    e.truncate(b.a[5]);
    e.push(b.entries[b.stamps[1]].clone());
    add(
        &mut out,
        "stamped-record-removed",
        "a",
        "stamped_record_missing",
        "records 5 and 6 cut off but the stamp of record 5 kept",
        bytes(&e),
        Some(offset_of(&e, e.len() - 1)),
        None,
    );

    let mut e = b.entries.clone();
    let first_proof = match &b.entries[b.stamps[0]] {
        Entry::Stamp(s) => s.proof.clone(),
        _ => unreachable!("a stamp"),
    };
    if let Entry::Stamp(s) = &mut e[b.stamps[1]] {
        s.proof = first_proof;
    }
    add(
        &mut out,
        "proof-for-another-root",
        "a",
        "stamp_proof",
        "the second stamp carries the first stamp's proof",
        bytes(&e),
        Some(offset_of(&e, b.stamps[1])),
        None,
    );

    let mut e = b.entries.clone();
    if let Entry::Stamp(s) = &mut e[b.stamps[0]] {
        s.proof = other
            .proof_of(
                Digest(stamp_root(&s.heads).0),
                Second(net.genesis.genesis_second.0 + 11),
                Height(11),
            )
            .to_compact()
            .expect("a small proof");
    }
    add(
        &mut out,
        "proof-from-another-network",
        "a",
        "stamp_proof",
        "the first stamp's proof is signed by another network",
        bytes(&e),
        Some(offset_of(&e, b.stamps[0])),
        None,
    );

    out.insert(
        "devicelog.json".into(),
        format!(
            "{}\n",
            serde_json::to_string_pretty(&cases).expect("cases serialize")
        )
        .into_bytes(),
    );
    out
}
