//! `timenode keygen` and `timenode genesis` as an operator runs them.

use std::path::PathBuf;
use std::process::{Command, Output};

fn timenode(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_timenode"))
        .args(args)
        .output()
        .unwrap()
}

fn temp_dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("tc-identity-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

#[test]
fn keygen_then_genesis_produces_a_valid_network_file() {
    let dir = temp_dir("ok");
    let mut node_args = Vec::new();
    for i in 0..4 {
        let out = dir.join(format!("node-{i}"));
        let o = timenode(&["keygen", "--out", out.to_str().unwrap()]);
        assert_eq!(
            o.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&o.stderr)
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(out.join("node.key"))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let secret = std::fs::read_to_string(out.join("node.key")).unwrap();
        let stdout = String::from_utf8_lossy(&o.stdout);
        assert!(
            !stdout.contains(secret.trim()),
            "keygen must never print the secret key"
        );
        node_args.push(format!(
            "node-{i},{},127.0.0.1:{}",
            out.join("node.pub").display(),
            7200 + i
        ));
    }
    // Running keygen again never overwrites a key.
    let again = timenode(&["keygen", "--out", dir.join("node-0").to_str().unwrap()]);
    assert_eq!(again.status.code(), Some(2));

    let genesis = dir.join("genesis.json");
    let mut args = vec![
        "genesis",
        "--chain-id",
        "test-net",
        "--out",
        genesis.to_str().unwrap(),
    ];
    for a in &node_args {
        args.extend(["--node", a.as_str()]);
    }
    let o = timenode(&args);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let g = tickchain_sdk::Genesis::from_json(&std::fs::read_to_string(&genesis).unwrap()).unwrap();
    assert_eq!((g.n(), g.f, g.quorum), (4, 1, 3));
    assert_eq!(g.chain_id, "test-net");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn genesis_rejects_bad_node_arguments_with_a_specific_message() {
    let dir = temp_dir("bad");
    let out = dir.join("genesis.json");
    let o = timenode(&[
        "genesis",
        "--out",
        out.to_str().unwrap(),
        "--node",
        "a,zz,127.0.0.1:1",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("cannot read key file zz"));
    let key = "ab".repeat(32);
    let arg = format!("a,{key},not-an-address");
    let o = timenode(&["genesis", "--out", out.to_str().unwrap(), "--node", &arg]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("is not HOST:PORT"));
    // One valid node cannot tolerate f = 1.
    let pk = tickchain_sdk::signing::public_key(&ed25519_dalek::SigningKey::from_bytes(&[3; 32]));
    let arg = format!("a,{pk},127.0.0.1:1");
    let o = timenode(&[
        "genesis",
        "--f",
        "1",
        "--out",
        out.to_str().unwrap(),
        "--node",
        &arg,
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("tolerate at most f = 0"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(!out.exists(), "nothing is written on error");
    std::fs::remove_dir_all(&dir).unwrap();
}
