//! CPU priorities of the node's threads: consensus first, intake after it.
//!
//! Owns: the nice values of the intake threads (the API's runtime, the pool's writer and
//! flusher, the index) and the one call that lowers the calling thread's priority. Never:
//! raises a priority (that needs privileges an operator should not have to grant) or touches
//! the consensus thread, the transport or the clock, which stay at the process's own priority.
//!
//! On two cores at saturating intake, the consensus loop waited for a core behind the API and
//! the pool writer: the final-tick lag p99 was 55–173 ms against 8 ms idle, and the time a vote
//! spent between its flush and its send was mostly waiting to run, not disk (a record flush
//! measured under load took 10 ms p99 at normal priority and 2.4 ms under `SCHED_FIFO`). Under
//! Linux's fair scheduler a thread at nice 5 gets about a third of the CPU share of one at
//! nice 0 when both want it, so intake keeps every idle cycle and yields the rest.

use tracing::debug;

/// How much the threads that take submissions are lowered (added to their nice value): the
/// API runtime's workers and blocking threads, the pool writer and the pool flusher.
pub const INTAKE_NICE: i32 = 5;

/// How much the index's indexer and compactor are lowered, whose work is never urgent.
pub const BACKGROUND_NICE: i32 = 10;

/// Runs the calling thread `by` nice steps below the process's main thread (up to nice 19),
/// so a node started under `nice` keeps the same spread, and a thread started by an already
/// lowered one is not lowered twice; never raises a priority. Best effort: a failure is logged
/// at debug level and the thread keeps its priority. Linux applies nice values per thread.
pub fn lower_this_thread(by: i32) {
    let me = rustix::thread::gettid();
    let base = rustix::process::getpriority_process(Some(rustix::process::getpid())).unwrap_or(0);
    let now = rustix::process::getpriority_process(Some(me)).unwrap_or(base);
    let nice = base.saturating_add(by).min(19);
    if nice <= now {
        return;
    }
    if let Err(e) = rustix::process::setpriority_process(Some(me), nice) {
        debug!(error = %e, nice, "cannot lower this thread's priority");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lowers_only_the_calling_thread() {
        let nice_of = |tid| rustix::process::getpriority_process(Some(tid)).expect("getpriority");
        let main = rustix::thread::gettid();
        let before = nice_of(main);
        let (lowered, twice, main_after) = std::thread::spawn(move || {
            lower_this_thread(INTAKE_NICE);
            let lowered = nice_of(rustix::thread::gettid());
            // A thread started by a lowered thread inherits its nice value; lowering it again
            // keeps it there.
            let twice = std::thread::spawn(move || {
                lower_this_thread(INTAKE_NICE);
                nice_of(rustix::thread::gettid())
            })
            .join()
            .expect("inner thread");
            (lowered, twice, nice_of(main))
        })
        .join()
        .expect("thread");
        assert_eq!(lowered, (before + INTAKE_NICE).min(19));
        assert_eq!(twice, lowered);
        assert_eq!(main_after, before, "another thread's priority changed");
    }
}
