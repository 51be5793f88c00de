//! Network namespaces and veth links for multi-process tests, removed by a guard.
//!
//! A [`NetLab`] creates namespaces and veth pairs with names unique to this process and lab
//! (`t<pid>x<lab>-` plus a short suffix), so parallel test binaries and parallel tests in one
//! binary never collide. Its `Drop` removes everything it created, also while a test panics:
//! it SIGKILLs, by pid, every process still inside one of its namespaces (only the test put
//! processes there), deletes its links, then its namespaces, and checks that they are gone.
//!
//! Links are created directly inside their namespaces (`ip link add … netns A type veth peer …
//! netns B`), so nothing is ever added to the root namespace. Addresses are point-to-point /32
//! pairs (`ip addr add A peer B`): each end has one route, to the other end, so a namespace
//! reaches exactly the addresses the test wired and nothing else. Use only 192.0.2.0/24 (the
//! documentation range) in them.
//!
//! [`Netns::run`] runs a closure on a fresh thread that entered the namespace with `setns(2)`:
//! sockets it creates belong to that namespace for their whole life, whichever thread uses them
//! afterwards. That is how a relay in the test process listens inside a namespace.

use std::net::Ipv4Addr;
use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};

/// How to get `ip` when it is missing.
const INSTALL_HINT: &str =
    "install iproute2 with `./scripts/install-deps` (or `apt-get install -y iproute2`)";

/// Labs created by this process so far (part of every name).
static LABS: AtomicUsize = AtomicUsize::new(0);

/// Runs `ip ARGS`, panicking with the command, its stderr and an install hint if it fails.
pub fn ip(args: &[&str]) -> Output {
    let out = Command::new("ip")
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run `ip {}`: {e}; {INSTALL_HINT}", args.join(" ")));
    assert!(
        out.status.success(),
        "`ip {}` failed ({}): {}{}",
        args.join(" "),
        out.status,
        String::from_utf8_lossy(&out.stderr).trim(),
        if looks_like_missing_root(&out) {
            "; network namespaces need root (CI and ./scripts/test run as root)"
        } else {
            ""
        }
    );
    out
}

/// Whether a failed `ip` looks like a missing privilege.
fn looks_like_missing_root(out: &Output) -> bool {
    let err = String::from_utf8_lossy(&out.stderr);
    err.contains("Operation not permitted") || err.contains("Permission denied")
}

/// Every namespace name `ip netns list` shows now.
pub fn namespace_names() -> Vec<String> {
    let out = ip(&["netns", "list"]);
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.split_whitespace().next().map(str::to_string))
        .collect()
}

/// A namespace created by a [`NetLab`] (the lab removes it; this is only its name).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Netns {
    name: String,
}

impl Netns {
    /// The namespace's name, as `ip netns` knows it.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// A command that runs `program` inside the namespace (`ip netns exec NAME program`).
    /// `ip` execs the program in place, so the child's pid is the program's pid.
    pub fn command(&self, program: impl AsRef<std::ffi::OsStr>) -> Command {
        let mut c = Command::new("ip");
        c.args(["netns", "exec", &self.name]).arg(program);
        c
    }

    /// The pids of the processes inside the namespace (`ip netns pids`).
    pub fn pids(&self) -> Vec<u32> {
        let out = ip(&["netns", "pids", &self.name]);
        String::from_utf8_lossy(&out.stdout)
            .split_whitespace()
            .filter_map(|p| p.parse().ok())
            .collect()
    }

    /// Runs `f` on a new thread that first entered this namespace, and returns its result.
    /// Sockets `f` opens, and threads it spawns, live in the namespace; the calling thread
    /// does not move. Panics if the namespace cannot be entered.
    pub fn run<T: Send>(&self, f: impl FnOnce() -> T + Send) -> T {
        let path = format!("/run/netns/{}", self.name);
        let file = std::fs::File::open(&path)
            .unwrap_or_else(|e| panic!("open {path}: {e} (was the namespace created?)"));
        std::thread::scope(|s| {
            s.spawn(move || {
                enter_network_namespace(&file).unwrap_or_else(|e| panic!("setns into {path}: {e}"));
                f()
            })
            .join()
            .unwrap_or_else(|e| std::panic::resume_unwind(e))
        })
    }
}

/// Moves the calling thread into the network namespace `file` refers to.
///
/// The one `unsafe` call of the test support: std has no `setns`, and the timenode crate has no
/// `libc` or `nix` dev-dependency. `setns` with `CLONE_NEWNET` affects only the calling thread
/// (allowed in a multi-threaded process), which is the dedicated thread of [`Netns::run`].
#[allow(unsafe_code)]
fn enter_network_namespace(file: &std::fs::File) -> std::io::Result<()> {
    use std::os::fd::AsRawFd;
    unsafe extern "C" {
        fn setns(fd: i32, nstype: i32) -> i32;
    }
    const CLONE_NEWNET: i32 = 0x4000_0000;
    // SAFETY: `setns` reads an integer file descriptor that `file` keeps open for the duration
    // of the call and touches no memory of ours; its only effect is on the calling thread's
    // namespace membership.
    let rc = unsafe { setns(file.as_raw_fd(), CLONE_NEWNET) };
    if rc == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

/// The guard owning every namespace and link a test created; dropping it removes them all.
#[derive(Debug)]
pub struct NetLab {
    prefix: String,
    namespaces: Vec<Netns>,
    /// (namespace, link name) of one end of every veth pair.
    links: Vec<(Netns, String)>,
}

impl NetLab {
    /// A new, empty lab. Panics with an install hint if `ip` is missing.
    pub fn new() -> NetLab {
        match Command::new("ip").arg("-V").output() {
            Ok(out) if out.status.success() => {}
            Ok(out) => panic!("`ip -V` failed ({}); {INSTALL_HINT}", out.status),
            Err(e) => panic!("`ip` (iproute2) is not installed ({e}); {INSTALL_HINT}"),
        }
        let k = LABS.fetch_add(1, Ordering::Relaxed);
        NetLab {
            prefix: format!("t{}x{k}-", std::process::id()),
            namespaces: Vec::new(),
            links: Vec::new(),
        }
    }

    /// The prefix of every name this lab creates (`t<pid>x<lab>-`).
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// Creates namespace `<prefix><suffix>` with its loopback up.
    pub fn namespace(&mut self, suffix: &str) -> Netns {
        let ns = Netns {
            name: format!("{}{suffix}", self.prefix),
        };
        ip(&["netns", "add", &ns.name]);
        self.namespaces.push(ns.clone());
        ip(&["-n", &ns.name, "link", "set", "lo", "up"]);
        ns
    }

    /// Creates a veth pair between `a` and `b`, gives end `a` address `a_ip` with peer `b_ip`
    /// and end `b` the reverse (point-to-point /32s), and brings both up. Returns the two link
    /// names (`<prefix>a<k>` in `a`, `<prefix>b<k>` in `b`).
    pub fn veth(
        &mut self,
        a: &Netns,
        a_ip: Ipv4Addr,
        b: &Netns,
        b_ip: Ipv4Addr,
    ) -> (String, String) {
        let k = self.links.len();
        let (la, lb) = (
            format!("{}a{k}", self.prefix),
            format!("{}b{k}", self.prefix),
        );
        assert!(
            la.len() <= 15 && lb.len() <= 15,
            "link name {la} is longer than IFNAMSIZ - 1"
        );
        ip(&[
            "link", "add", &la, "netns", &a.name, "type", "veth", "peer", "name", &lb, "netns",
            &b.name,
        ]);
        self.links.push((a.clone(), la.clone()));
        for (ns, link, mine, peer) in [(a, &la, a_ip, b_ip), (b, &lb, b_ip, a_ip)] {
            let (mine, peer) = (format!("{mine}/32"), format!("{peer}/32"));
            ip(&[
                "-n", &ns.name, "addr", "add", &mine, "peer", &peer, "dev", link,
            ]);
            ip(&["-n", &ns.name, "link", "set", link, "up"]);
        }
        (la, lb)
    }

    /// The namespaces created so far.
    pub fn namespaces(&self) -> &[Netns] {
        &self.namespaces
    }
}

impl Default for NetLab {
    fn default() -> Self {
        NetLab::new()
    }
}

impl Drop for NetLab {
    fn drop(&mut self) {
        let mut problems = Vec::new();
        let me = std::process::id();
        // Processes left inside (a node a panicking test did not stop): only the test started
        // processes in these namespaces, so kill them, one pid at a time.
        for ns in &self.namespaces {
            let out = Command::new("ip")
                .args(["netns", "pids", &ns.name])
                .output();
            let Ok(out) = out else { continue };
            for pid in String::from_utf8_lossy(&out.stdout).split_whitespace() {
                if pid.parse::<u32>().is_ok_and(|p| p != me) {
                    let _ = Command::new("kill").args(["-KILL", pid]).status();
                }
            }
        }
        for (ns, link) in self.links.drain(..).rev() {
            let out = Command::new("ip")
                .args(["-n", &ns.name, "link", "del", &link])
                .output();
            if !out.is_ok_and(|o| o.status.success()) {
                problems.push(format!("link {link} in {}", ns.name));
            }
        }
        for ns in self.namespaces.drain(..).rev() {
            let out = Command::new("ip").args(["netns", "del", &ns.name]).output();
            if !out.is_ok_and(|o| o.status.success()) {
                problems.push(format!("namespace {}", ns.name));
            }
        }
        let left: Vec<String> = Command::new("ip")
            .args(["netns", "list"])
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
            .unwrap_or_default()
            .lines()
            .filter_map(|l| l.split_whitespace().next())
            .filter(|n| n.starts_with(&self.prefix))
            .map(str::to_string)
            .collect();
        problems.extend(
            left.into_iter()
                .map(|n| format!("namespace {n} still listed")),
        );
        if !problems.is_empty() {
            let msg = format!("NetLab cleanup failed: {}", problems.join(", "));
            if std::thread::panicking() {
                eprintln!("{msg}");
            } else {
                panic!("{msg}");
            }
        }
    }
}
