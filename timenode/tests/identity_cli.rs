//! `timenode keygen` and `timenode genesis` as an operator runs them.

use std::path::PathBuf;
use std::process::{Command, Output};
use tickchain_anchor::AttestationKey;

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
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(out.join("attest.key"))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600, "attest.key is secret too");
        }
        let stdout = String::from_utf8_lossy(&o.stdout);
        let stderr = String::from_utf8_lossy(&o.stderr);
        for file in ["node.key", "attest.key"] {
            let secret = std::fs::read_to_string(out.join(file)).unwrap();
            assert_eq!(secret.trim().len(), 64, "{file}");
            assert!(
                !stdout.contains(secret.trim()) && !stderr.contains(secret.trim()),
                "keygen must never print the secret in {file}"
            );
        }
        let public = std::fs::read_to_string(out.join("attestation.json")).unwrap();
        assert!(public.contains("\"address\""), "{public}");
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
    // Every node's attestation key is in genesis, bound to its identity (from_json checked
    // both signatures), and it is the key in that node's attest.key.
    assert_eq!(g.version, tickchain_sdk::GENESIS_VERSION);
    for (i, node) in g.nodes.iter().enumerate() {
        let key = AttestationKey::read(&dir.join(format!("node-{i}/attest.key"))).unwrap();
        assert_eq!(node.attestation.as_ref().unwrap().address, key.address());
    }

    // With a gateway: a version 3 genesis listing its key, as signer n + 0.
    let gw = dir.join("gw-0");
    let o = timenode(&["keygen", "--out", gw.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0));
    let with_gw = dir.join("genesis-gw.json");
    let gw_arg = format!("gw-0,{}", gw.join("node.pub").display());
    let mut args = vec!["genesis", "--out", with_gw.to_str().unwrap()];
    for a in &node_args {
        args.extend(["--node", a.as_str()]);
    }
    args.extend(["--gateway", gw_arg.as_str()]);
    let o = timenode(&args);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(String::from_utf8_lossy(&o.stdout).contains("4 nodes, 1 gateways"));
    let g3 =
        tickchain_sdk::Genesis::from_json(&std::fs::read_to_string(&with_gw).unwrap()).unwrap();
    assert_eq!(g3.version, tickchain_sdk::GENESIS_VERSION_GATEWAYS);
    assert_eq!(g3.gateways[0].name, "gw-0");
    assert_eq!(
        g3.gateways[0].public_key.to_hex(),
        std::fs::read_to_string(gw.join("node.pub")).unwrap().trim()
    );
    // A gateway key that is a node's is refused, naming the field.
    let clash = format!("gw-1,{}", dir.join("node-2/node.pub").display());
    let mut args: Vec<String> = ["genesis", "--out", dir.join("clash.json").to_str().unwrap()]
        .map(String::from)
        .to_vec();
    for a in &node_args {
        args.extend(["--node".to_owned(), a.clone()]);
    }
    args.extend(["--gateway".to_owned(), clash]);
    let o = timenode(&args.iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("gateways[0].public_key") && err.contains("same key as nodes[2]"),
        "{err}"
    );
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
    // A hex key needs its attestation binding.
    let identity = ed25519_dalek::SigningKey::from_bytes(&[3; 32]);
    let pk = tickchain_sdk::signing::public_key(&identity);
    let arg = format!("a,{pk},127.0.0.1:1");
    let o = timenode(&["genesis", "--out", out.to_str().unwrap(), "--node", &arg]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("needs the node's attestation.json"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    // A binding made for another identity is refused, naming the file.
    let attest = AttestationKey::from_secret(&[5; 32]).unwrap();
    let other = ed25519_dalek::SigningKey::from_bytes(&[4; 32]);
    let wrong = dir.join("wrong.json");
    tickchain_timenode::identity_cmd::write_binding(&wrong, &attest.bind(&other)).unwrap();
    let arg = format!("a,{pk},127.0.0.1:1,{}", wrong.display());
    let o = timenode(&["genesis", "--out", out.to_str().unwrap(), "--node", &arg]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("did not sign"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    // One valid node cannot tolerate f = 1.
    let binding = dir.join("attestation.json");
    tickchain_timenode::identity_cmd::write_binding(&binding, &attest.bind(&identity)).unwrap();
    let arg = format!("a,{pk},127.0.0.1:1,{}", binding.display());
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

#[test]
fn tsa_root_then_genesis_issues_member_certificates_that_chain_and_openssl_accepts() {
    use tickchain_sdk::rfc3161::signer::SignerCertificate;
    use tickchain_timenode::tsa::pki;
    let dir = temp_dir("tsa");
    let root_dir = dir.join("root");
    let o = timenode(&[
        "tsa-root",
        "--out",
        root_dir.to_str().unwrap(),
        "--chain-id",
        "tsa-net",
    ]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(root_dir.join(pki::ROOT_KEY_FILE))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "the root key is secret");
    }
    let root_key = std::fs::read_to_string(root_dir.join(pki::ROOT_KEY_FILE)).unwrap();
    let body: String = root_key
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .collect();
    assert!(!String::from_utf8_lossy(&o.stdout).contains(&body[..40]));
    // A second run keeps the root.
    let again = timenode(&["tsa-root", "--out", root_dir.to_str().unwrap()]);
    assert_eq!(again.status.code(), Some(2));
    assert_eq!(
        std::fs::read_to_string(root_dir.join(pki::ROOT_KEY_FILE)).unwrap(),
        root_key
    );

    let mut node_args = Vec::new();
    for i in 0..4 {
        let out = dir.join(format!("node-{i}"));
        let o = timenode(&["keygen", "--out", out.to_str().unwrap()]);
        assert_eq!(o.status.code(), Some(0));
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(out.join(pki::KEY_FILE))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "tsa.key is secret");
        node_args.push(format!(
            "node-{i},{},127.0.0.1:{}",
            out.join("node.pub").display(),
            7100 + i
        ));
    }
    let genesis_path = dir.join("net").join("genesis.json");
    std::fs::create_dir_all(genesis_path.parent().unwrap()).unwrap();
    let mut args = vec![
        "genesis",
        "--chain-id",
        "tsa-net",
        "--tsa-root",
        root_dir.to_str().unwrap(),
    ];
    for a in &node_args {
        args.extend(["--node", a.as_str()]);
    }
    args.extend(["--out", genesis_path.to_str().unwrap()]);
    let o = timenode(&args);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let genesis =
        tickchain_sdk::Genesis::from_json(&std::fs::read_to_string(&genesis_path).unwrap())
            .unwrap();
    assert_eq!(genesis.version, 3);
    let root = SignerCertificate::parse(&genesis.tsa_root_der().unwrap()).unwrap();
    for i in 0..4 {
        let cert_path = dir.join("net").join(format!("tsa-node-{i}.pem"));
        let cert = pki::read_certificate(&cert_path).unwrap();
        pki::check_issued_by(&cert, &root).unwrap();
        let point =
            std::fs::read_to_string(dir.join(format!("node-{i}")).join(pki::PUB_FILE)).unwrap();
        assert_eq!(hex::encode(cert.public_key().unwrap()), point.trim());
        // openssl agrees: the chain verifies for time stamping, EKU critical.
        let out = Command::new("openssl")
            .args(["verify", "-purpose", "timestampsign", "-CAfile"])
            .arg(root_dir.join(pki::ROOT_CERT_FILE))
            .arg(&cert_path)
            .output()
            .expect("fixture missing: openssl");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let text = Command::new("openssl")
            .args(["x509", "-noout", "-text", "-in"])
            .arg(&cert_path)
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&text.stdout);
        assert!(
            text.contains("X509v3 Extended Key Usage: critical\n                Time Stamping"),
            "{text}"
        );
    }
}

#[test]
fn tsa_cert_renews_one_member_certificate_and_never_overwrites() {
    use tickchain_sdk::rfc3161::signer::SignerCertificate;
    use tickchain_timenode::tsa::pki;
    let dir = temp_dir("tsa-cert");
    let root_dir = dir.join("root");
    assert_eq!(
        timenode(&["tsa-root", "--out", root_dir.to_str().unwrap()])
            .status
            .code(),
        Some(0)
    );
    let node = dir.join("node-0");
    assert_eq!(
        timenode(&["keygen", "--out", node.to_str().unwrap()])
            .status
            .code(),
        Some(0)
    );
    let out = dir.join("renewed.pem");
    let public = node.join(pki::PUB_FILE);
    let args = [
        "tsa-cert",
        "--root",
        root_dir.to_str().unwrap(),
        "--name",
        "node-0",
        "--public-key",
        public.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ];
    let o = timenode(&args);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let root = pki::read_certificate(&root_dir.join(pki::ROOT_CERT_FILE)).unwrap();
    let cert: SignerCertificate = pki::read_certificate(&out).unwrap();
    pki::check_issued_by(&cert, &root).unwrap();
    assert_eq!(cert.authority_key_id(), root.subject_key_id());
    assert!(cert.is_time_stamping_only() && !cert.is_ca());
    assert!(
        cert.validity().1 <= root.validity().1,
        "never valid after the root"
    );
    let before = std::fs::read(&out).unwrap();
    let again = timenode(&args);
    assert_eq!(
        again.status.code(),
        Some(2),
        "an existing certificate is kept"
    );
    assert_eq!(std::fs::read(&out).unwrap(), before);
    // A public key that is not a P-256 point is named.
    std::fs::write(dir.join("bad.pub"), "04abcd\n").unwrap();
    let (bad_pub, bad_out) = (dir.join("bad.pub"), dir.join("bad.pem"));
    let mut bad = args;
    bad[6] = bad_pub.to_str().unwrap();
    bad[8] = bad_out.to_str().unwrap();
    let o = timenode(&bad);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("uncompressed P-256 point"));
}
