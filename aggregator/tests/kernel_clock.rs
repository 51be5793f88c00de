//! The kernel clock probe against this machine's real kernel clock, cross-checked with an
//! independent `adjtimex(2)` call made from Python's ctypes (needs `python3`).

use std::process::Command;
use tickchain_aggregator::Span;
use tickchain_aggregator::drivers::{Probe, kernel};

/// (clock state, status bits) read by python3 through ctypes.
fn adjtimex_from_python() -> (i32, i32) {
    let script = r#"
import ctypes
class Timex(ctypes.Structure):
    _fields_ = [("modes", ctypes.c_uint), ("offset", ctypes.c_long), ("freq", ctypes.c_long),
                ("maxerror", ctypes.c_long), ("esterror", ctypes.c_long), ("status", ctypes.c_int),
                ("pad", ctypes.c_byte * 200)]
t = Timex()
state = ctypes.CDLL(None, use_errno=True).adjtimex(ctypes.byref(t))
print(state, t.status)
"#;
    let out = Command::new("python3")
        .args(["-c", script])
        .output()
        .expect("fixture missing: python3 not found; install it with `apt-get install -y python3`");
    assert!(out.status.success(), "python3 adjtimex failed: {out:?}");
    let text = String::from_utf8(out.stdout).unwrap();
    let mut it = text.split_whitespace().map(|v| v.parse::<i32>().unwrap());
    (it.next().unwrap(), it.next().unwrap())
}

#[test]
fn kernel_probe_agrees_with_an_independent_adjtimex_read() {
    let (state, status) = adjtimex_from_python();
    let unsynchronised = status & 0x0040 != 0 || state == 5;
    match kernel::query() {
        Probe::Unsynchronised(why) => {
            assert!(
                unsynchronised,
                "probe says unsynchronised ({why}) but adjtimex says state {state}, status {status:#x}"
            );
            assert!(why.contains("STA_UNSYNC"));
        }
        Probe::Sample(s) => {
            assert!(
                !unsynchronised,
                "probe gave a sample but adjtimex says unsynchronised"
            );
            assert_eq!(s.offset.0, 0);
            // The kernel caps maxerror at NTP_PHASE_LIMIT-derived 16 s.
            assert!(s.root_dispersion <= Span::from_secs(16));
        }
        Probe::NoReply(why) => panic!("adjtimex failed: {why}"),
    }
}
