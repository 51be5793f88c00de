//! Issue 7's partition test and the chaos helpers it runs on: four real `timenode` processes
//! (real QUIC, real sled), each in its own network namespace, every packet between them going
//! through a userspace relay (`ringkit::relay`) that can split the ring 2|2 and heal it. Also
//! tests of the helpers themselves: the relay applies delay, jitter, loss and cuts per direction,
//! and the namespace guard removes everything it created even when the test panics.
//!
//! Needs root and `ip` (iproute2, installed by `./scripts/install-deps`); without them the
//! namespace tests fail with that hint.

mod ringkit;

use ringkit::netns::{NetLab, namespace_names};
use ringkit::relay::{Link, Relay};
use ringkit::{DECLARED_CLOCK, Node, chain, wait_until};
use std::net::{IpAddr, Ipv4Addr, SocketAddr, UdpSocket};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use tickchain_sdk::Network;
use tickchain_timenode::localnet;

const LOOPBACK: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);

fn ms(v: u64) -> Duration {
    Duration::from_millis(v)
}

/// One echo through the relay: client → (front of 1) → server, then the server answers the
/// source it saw. Returns the one-way times up and down, or `None` if either was dropped.
/// Stale packets from earlier probes are skipped by their sequence number.
fn probe(
    client: &UdpSocket,
    server: &UdpSocket,
    to_server: SocketAddr,
    seq: u64,
) -> Option<(Duration, Duration)> {
    let mut buf = [0u8; 64];
    let sent = Instant::now();
    client.send_to(&seq.to_be_bytes(), to_server).unwrap();
    let (up, src) = loop {
        let (n, src) = server.recv_from(&mut buf).ok()?;
        if n == 8 && buf[..8] == seq.to_be_bytes() {
            break (sent.elapsed(), src);
        }
    };
    let answered = Instant::now();
    server.send_to(&seq.to_be_bytes(), src).unwrap();
    loop {
        let (n, from) = client.recv_from(&mut buf).ok()?;
        if n == 8 && buf[..8] == seq.to_be_bytes() {
            assert_eq!(
                from, to_server,
                "the answer comes back from the address the client sent to"
            );
            return Some((up, answered.elapsed()));
        }
    }
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

/// Receives every datagram until `quiet` passes without one; returns how many came.
fn drain(socket: &UdpSocket, quiet: Duration) -> Vec<SocketAddr> {
    socket.set_read_timeout(Some(quiet)).unwrap();
    let mut buf = [0u8; 64];
    let mut from = Vec::new();
    while let Ok((_, src)) = socket.recv_from(&mut buf) {
        from.push(src);
    }
    socket
        .set_read_timeout(Some(Duration::from_secs(1)))
        .unwrap();
    from
}

#[test]
fn relay_applies_delay_jitter_loss_and_cuts_to_each_direction() {
    let client = UdpSocket::bind("127.0.0.1:0").unwrap();
    let server = UdpSocket::bind("127.0.0.1:0").unwrap();
    for s in [&client, &server] {
        s.set_read_timeout(Some(Duration::from_secs(1))).unwrap();
    }
    let relay = Relay::start(
        LOOPBACK,
        &[client.local_addr().unwrap(), server.local_addr().unwrap()],
    )
    .unwrap();
    let front = relay.front(1);
    let mut seq = 0u64;
    let mut run = |count: usize| -> Vec<(Duration, Duration)> {
        (0..count)
            .map(|_| {
                seq += 1;
                probe(&client, &server, front, seq).expect("no loss configured")
            })
            .collect()
    };

    // Clear: everything passes, through the relay (the server sees the relay, not the client).
    let clear = run(20);
    assert_eq!(relay.stats(0, 1).forwarded, 20);
    assert_eq!(relay.stats(1, 0).forwarded, 20);
    let base_up = median(clear.iter().map(|s| s.0).collect());
    println!("clear: median one-way {base_up:?}");

    // 30 ms up, 10 ms down: each direction gets its own delay, never less than configured.
    relay.set(
        0,
        1,
        Link {
            delay: ms(30),
            ..Link::default()
        },
    );
    relay.set(
        1,
        0,
        Link {
            delay: ms(10),
            ..Link::default()
        },
    );
    let delayed = run(20);
    for (up, down) in &delayed {
        assert!(*up >= ms(30), "up {up:?} < 30 ms");
        assert!(*down >= ms(10), "down {down:?} < 10 ms");
    }
    let (up, down) = (
        median(delayed.iter().map(|s| s.0).collect()),
        median(delayed.iter().map(|s| s.1).collect()),
    );
    println!("30/10 ms: median up {up:?}, down {down:?}");
    assert!(up < ms(80) && down < ms(60), "delay far above the setting");
    assert!(
        up >= down + ms(15),
        "the two directions are not independent"
    );

    // Jitter: 10 ms + uniform [0, 40) ms; samples spread over the range.
    relay.set(
        0,
        1,
        Link {
            delay: ms(10),
            jitter: ms(40),
            ..Link::default()
        },
    );
    relay.set(1, 0, Link::default());
    let ups: Vec<Duration> = run(30).into_iter().map(|s| s.0).collect();
    let (lo, hi) = (*ups.iter().min().unwrap(), *ups.iter().max().unwrap());
    println!("10 ms + 40 ms jitter: one-way from {lo:?} to {hi:?}");
    assert!(lo >= ms(10), "below the fixed delay: {lo:?}");
    assert!(lo < ms(25) && hi > ms(35), "no spread: {lo:?}..{hi:?}");
    let mid = median(ups);
    assert!(
        mid < ms(80),
        "median {mid:?} far above 10 ms + 20 ms mean jitter"
    );

    // Loss 0.5 up only: about half arrive; everything the server echoes comes back.
    relay.set(
        0,
        1,
        Link {
            loss: 0.5,
            ..Link::default()
        },
    );
    let before = relay.stats(0, 1);
    let (mut arrived, mut echoed) = (0, 0);
    for _ in 0..8 {
        for _ in 0..50 {
            seq += 1;
            client.send_to(&seq.to_be_bytes(), front).unwrap();
        }
        let got = drain(&server, ms(200));
        arrived += got.len();
        for src in got {
            server.send_to(b"echo", src).unwrap();
        }
        echoed += drain(&client, ms(200)).len();
    }
    let after = relay.stats(0, 1);
    println!("loss 0.5: {arrived} of 400 arrived, {echoed} echoes returned");
    assert!((120..=280).contains(&arrived), "{arrived} of 400 arrived");
    assert_eq!(echoed, arrived, "the reverse direction lost packets");
    assert_eq!(
        after.lost - before.lost + after.forwarded - before.forwarded,
        400
    );
    assert_eq!(after.forwarded - before.forwarded, arrived as u64);

    // Cut up only: nothing reaches the server, the reverse direction still works.
    relay.set(
        0,
        1,
        Link {
            cut: true,
            ..Link::default()
        },
    );
    let cut_before = relay.stats(0, 1).cut;
    for _ in 0..20 {
        seq += 1;
        client.send_to(&seq.to_be_bytes(), front).unwrap();
    }
    assert!(
        drain(&server, ms(300)).is_empty(),
        "a cut direction delivered"
    );
    assert_eq!(relay.stats(0, 1).cut - cut_before, 20);
    let server_sees_client_at = probe_source(&relay, &client, &server);
    server.send_to(b"down", server_sees_client_at).unwrap();
    assert_eq!(
        drain(&client, ms(300)),
        vec![front],
        "the open direction is cut"
    );

    // Partition {0} | {1}, then heal: both directions cut, then both open, delays kept.
    relay.set(
        0,
        1,
        Link {
            delay: ms(5),
            ..Link::default()
        },
    );
    relay.partition(&[&[0], &[1]]);
    assert!(relay.link(0, 1).cut && relay.link(1, 0).cut);
    seq += 1;
    assert!(probe(&client, &server, front, seq).is_none());
    relay.heal();
    assert_eq!(
        relay.link(0, 1),
        Link {
            delay: ms(5),
            ..Link::default()
        }
    );
    seq += 1;
    let (up, _) = probe(&client, &server, front, seq).expect("healed");
    assert!(up >= ms(5));
    assert_eq!(relay.unknown(), 0, "packets from unexpected sources");

    // Dropping the relay stops it promptly and closes its sockets.
    let t = Instant::now();
    drop(relay);
    assert!(
        t.elapsed() < Duration::from_secs(1),
        "drop took {:?}",
        t.elapsed()
    );
    client.send_to(b"after", front).unwrap();
    assert!(
        drain(&server, ms(200)).is_empty(),
        "a dropped relay forwarded"
    );
}

/// The address the server sees the client at (the relay's pair socket), learned from one
/// packet sent with the up direction temporarily open.
fn probe_source(relay: &Relay, client: &UdpSocket, server: &UdpSocket) -> SocketAddr {
    let saved = relay.link(0, 1);
    relay.set(0, 1, Link::default());
    client.send_to(b"where", relay.front(1)).unwrap();
    let got = drain(server, ms(300));
    relay.set(0, 1, saved);
    assert_eq!(got.len(), 1);
    assert_ne!(got[0], client.local_addr().unwrap(), "bypassed the relay");
    got[0]
}

#[test]
fn netns_lab_removes_its_namespaces_links_and_processes_even_when_the_test_panics() {
    type Left = (Vec<String>, Vec<String>, std::process::Child);
    let left: Arc<Mutex<Option<Left>>> = Arc::default();
    let inside = left.clone();
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(move || {
        let mut lab = NetLab::new();
        let a = lab.namespace("a");
        let b = lab.namespace("b");
        let (ip_a, ip_b) = (Ipv4Addr::new(192, 0, 2, 1), Ipv4Addr::new(192, 0, 2, 2));
        let (la, lb) = lab.veth(&a, ip_a, &b, ip_b);
        // Sockets opened inside each namespace talk across the veth.
        let server = b.run(|| UdpSocket::bind((ip_b, 0))).unwrap();
        let client = a.run(|| UdpSocket::bind((ip_a, 0))).unwrap();
        server
            .set_read_timeout(Some(Duration::from_secs(2)))
            .unwrap();
        client.send_to(b"hi", server.local_addr().unwrap()).unwrap();
        let mut buf = [0u8; 8];
        let (n, from) = server
            .recv_from(&mut buf)
            .expect("datagram across the veth");
        assert_eq!(
            (&buf[..n], from),
            (&b"hi"[..], client.local_addr().unwrap())
        );
        // Nothing was added to the root namespace.
        let root_links = String::from_utf8_lossy(
            &std::process::Command::new("ip")
                .args(["-o", "link", "show"])
                .output()
                .unwrap()
                .stdout,
        )
        .into_owned();
        assert!(!root_links.contains(lab.prefix()));
        // A process started inside `a` has the pid `ip netns pids` lists.
        let child = a.command("sleep").arg("60").spawn().unwrap();
        let pid = child.id();
        wait_until("sleep inside the namespace", Duration::from_secs(5), || {
            a.pids().contains(&pid)
        });
        let names = lab
            .namespaces()
            .iter()
            .map(|n| n.name().to_string())
            .collect();
        *inside.lock().unwrap() = Some((names, vec![la, lb], child));
        panic!("deliberate panic with the lab, a link and a process alive");
    }));
    assert!(outcome.is_err(), "the closure panics on purpose");
    let (names, links, mut child) = left.lock().unwrap().take().expect("lab was set up");
    let listed = namespace_names();
    for n in &names {
        assert!(!listed.contains(n), "namespace {n} survived the panic");
    }
    let root_links = String::from_utf8_lossy(
        &std::process::Command::new("ip")
            .args(["-o", "link", "show"])
            .output()
            .unwrap()
            .stdout,
    )
    .into_owned();
    for l in &links {
        assert!(
            !root_links.contains(l.as_str()),
            "link {l} is in the root namespace"
        );
    }
    wait_until(
        "the lab to kill the process inside",
        Duration::from_secs(5),
        || child.try_wait().unwrap().is_some(),
    );
    use std::os::unix::process::ExitStatusExt;
    assert_eq!(
        child.wait().unwrap().signal(),
        Some(9),
        "killed by the lab (SIGKILL)"
    );
}

/// The wall clock: the current Unix second and the fraction of it elapsed.
fn wall() -> (u64, f64) {
    let d = SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
    (d.as_secs(), f64::from(d.subsec_nanos()) / 1e9)
}

/// Sleeps until the wall clock is `frac` of the way into a second.
fn sleep_to_fraction(frac: f64) {
    let (_, now) = wall();
    std::thread::sleep(Duration::from_secs_f64((frac - now).rem_euclid(1.0)));
}

/// The address node `i` binds in its namespace.
fn node_ip(i: usize) -> Ipv4Addr {
    Ipv4Addr::new(192, 0, 2, 10 + i as u8)
}

/// The relay's address in the hub namespace (every hub end of every veth).
const RELAY_IP: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 1);

/// Port every node binds inside its own namespace.
const NODE_PORT: u16 = 7100;

/// How long after the split a final tick may still be logged from votes delivered before it.
const SPLIT_GRACE: Duration = Duration::from_millis(250);

#[test]
fn partition_2_2_finalizes_nothing_while_split_never_forks_and_resumes_within_3_s_of_healing() {
    let test_start = Instant::now();
    // Removed at the end of a passing run; a failing run leaves it for its node logs.
    let root = std::env::temp_dir().join(format!("tc-partition-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);

    // Declared first so it is dropped last: nodes die, then the relay stops, then the lab
    // removes namespaces and links (and kills anything left inside).
    let mut lab = NetLab::new();
    let hub = lab.namespace("hub");
    let spaces: Vec<_> = (0..4).map(|i| lab.namespace(&format!("n{i}"))).collect();
    for (i, ns) in spaces.iter().enumerate() {
        lab.veth(&hub, RELAY_IP, ns, node_ip(i));
    }
    let endpoints: Vec<SocketAddr> = (0..4)
        .map(|i| SocketAddr::new(node_ip(i).into(), NODE_PORT))
        .collect();
    let relay = hub
        .run(|| Relay::start(RELAY_IP.into(), &endpoints))
        .unwrap();
    // The relay is the only path between nodes: a node has no route to another node's
    // address, and the hub does not forward IP.
    let direct = spaces[0].run(|| {
        let s = UdpSocket::bind(endpoints[0]).expect("bind in node 0's namespace");
        s.send_to(b"direct", endpoints[2])
    });
    assert!(
        direct.is_err(),
        "node 0's namespace can reach node 2 directly"
    );
    let forward = hub
        .command("cat")
        .arg("/proc/sys/net/ipv4/ip_forward")
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&forward.stdout).trim(),
        "0",
        "the hub routes"
    );

    // Genesis addresses are the relay's fronts; each node binds its namespace address
    // (`listen`, appended to the `[node]` section `localnet::create` writes last).
    let genesis_addresses: Vec<String> = relay.fronts().iter().map(|a| a.to_string()).collect();
    let (genesis, _) = localnet::create(&root, "partition-test", &genesis_addresses, |i| {
        format!("listen = \"{}\"\n\n{DECLARED_CLOCK}", endpoints[i])
    })
    .unwrap();
    let mut nodes: Vec<Node> = spaces
        .iter()
        .enumerate()
        .map(|(i, ns)| Node::new(localnet::node_dir(&root, i), Some(ns.clone())))
        .collect();
    for n in &mut nodes {
        n.start();
    }
    wait_until(
        "3 final ticks on every node",
        Duration::from_secs(30),
        || nodes.iter().all(|n| n.top() >= 3),
    );
    println!(
        "3 final ticks on all 4 nodes after {:?}",
        test_start.elapsed()
    );
    for from in 0..4 {
        for to in 0..4 {
            if from != to {
                assert!(
                    relay.stats(from, to).forwarded > 0,
                    "no traffic {from} → {to}"
                );
            }
        }
    }

    // Split {0,1} | {2,3} 300 ms into a second (well after that second's tick is final).
    let cross = [
        (0, 2),
        (0, 3),
        (1, 2),
        (1, 3),
        (2, 0),
        (3, 0),
        (2, 1),
        (3, 1),
    ];
    let halves = [(0, 1), (1, 0), (2, 3), (3, 2)];
    let cut_before: u64 = cross.iter().map(|&(a, b)| relay.stats(a, b).cut).sum();
    let within_before: Vec<u64> = halves
        .iter()
        .map(|&(a, b)| relay.stats(a, b).forwarded)
        .collect();
    sleep_to_fraction(0.3);
    relay.partition(&[&[0, 1], &[2, 3]]);
    let split_at = Instant::now();
    let (split_second, _) = wall();
    println!("split at second {split_second}");
    std::thread::sleep(Duration::from_secs(10).saturating_sub(split_at.elapsed()));
    let within: Vec<u64> = halves
        .iter()
        .map(|&(a, b)| relay.stats(a, b).forwarded)
        .collect();
    relay.heal();
    let heal_at = Instant::now();
    let (heal_second, _) = wall();
    println!(
        "healed at second {heal_second} ({:?} split)",
        heal_at - split_at
    );

    // Nothing was finalized while split, by any node.
    for (i, n) in nodes.iter().enumerate() {
        let during: Vec<_> = n
            .finals()
            .into_iter()
            .filter(|(_, s)| s.at > split_at + SPLIT_GRACE && s.at <= heal_at)
            .map(|(h, s)| (h, s.second, s.at - split_at))
            .collect();
        assert!(
            during.is_empty(),
            "node {i} finalized (height, second, after split) {during:?} while split"
        );
    }
    let cut_during: u64 = cross
        .iter()
        .map(|&(a, b)| relay.stats(a, b).cut)
        .sum::<u64>()
        - cut_before;
    println!("packets dropped across the split: {cut_during}");
    assert!(cut_during > 0, "no node tried to reach the other side");

    // Ticks resume within 3 s of healing.
    let resumed = |n: &Node| n.finals().values().any(|s| s.second >= heal_second);
    wait_until(
        "a final tick for a second at or after the heal",
        Duration::from_secs(3).saturating_sub(heal_at.elapsed()),
        || nodes.iter().any(resumed),
    );
    println!(
        "first final tick after healing: {:?} after the heal",
        heal_at.elapsed()
    );
    wait_until("every node past the heal", Duration::from_secs(20), || {
        nodes.iter().all(resumed)
    });
    let target = nodes.iter().map(Node::top).max().unwrap() + 2;
    wait_until(
        "every node 2 ticks further",
        Duration::from_secs(20),
        || nodes.iter().all(|n| n.top() >= target),
    );
    for (i, n) in nodes.iter().enumerate() {
        let first = n
            .finals()
            .values()
            .filter(|s| s.second >= heal_second)
            .map(|s| s.at - heal_at)
            .min();
        println!("node {i}: first final tick after healing {first:?} after the heal");
    }
    for n in &mut nodes {
        n.sigterm();
    }

    // Every stored chain verifies, and all agree on every height they hold (no fork); none
    // holds a tick for a second strictly inside the split.
    let network = Network::new(genesis);
    let chains: Vec<_> = nodes.iter().map(|n| chain(&n.dir, &network)).collect();
    for (i, c) in chains.iter().enumerate() {
        let inside: Vec<_> = c
            .iter()
            .filter(|(_, s, _)| *s > split_second && *s < heal_second)
            .collect();
        assert!(
            inside.is_empty(),
            "node {i} stores ticks from the split: {inside:?}"
        );
        assert!(
            c.iter().any(|(_, s, _)| *s <= split_second),
            "node {i}: nothing before"
        );
        assert!(
            c.iter().any(|(_, s, _)| *s >= heal_second),
            "node {i}: nothing after"
        );
        for (j, d) in chains.iter().enumerate().skip(i + 1) {
            for ((h, _, x), (k, _, y)) in c.iter().zip(d) {
                assert_eq!((h, x), (k, y), "nodes {i} and {j} disagree at height {h}");
            }
        }
    }
    println!(
        "chains: {:?} ticks; test took {:?}",
        chains.iter().map(Vec::len).collect::<Vec<_>>(),
        test_start.elapsed()
    );
    assert!(
        within
            .iter()
            .zip(&within_before)
            .all(|(after, before)| after > before),
        "no traffic within the halves while split: {within_before:?} → {within:?}"
    );
    assert_eq!(
        relay.unknown(),
        0,
        "packets from unexpected sources reached the relay"
    );
    drop(nodes);
    drop(relay);
    drop(lab);
    let _ = std::fs::remove_dir_all(&root);
}
