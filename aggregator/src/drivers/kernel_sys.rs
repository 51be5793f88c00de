//! The one `unsafe` call in this crate: reading the kernel clock's status with `adjtimex(2)`.
//!
//! Owns: the FFI call and nothing else. Never: sets the clock (`modes` is always 0).

/// What `adjtimex` reports about the kernel clock.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct KernelTimex {
    /// The return value: the clock state (`TIME_OK`, `TIME_INS`, …, `TIME_ERROR`).
    pub state: i32,
    /// `STA_*` status bits.
    pub status: i32,
    /// Maximum error, microseconds.
    pub maxerror_us: i64,
    /// Estimated error, microseconds.
    pub esterror_us: i64,
    /// Clock precision, microseconds.
    pub precision_us: i64,
}

/// Reads the kernel clock status without changing anything.
pub(crate) fn read() -> std::io::Result<KernelTimex> {
    // SAFETY: `timex` is a plain C struct for which all-zero bytes is a valid value.
    // `adjtimex` reads `modes` (0: change nothing) and writes only into the struct we pass,
    // which lives on this stack frame for the whole call; no pointer escapes.
    let mut tx: libc::timex = unsafe { std::mem::zeroed() };
    tx.modes = 0;
    // SAFETY: see above; `&mut tx` is a valid, exclusive pointer to an initialised `timex`.
    let state = unsafe { libc::adjtimex(&mut tx) };
    if state < 0 {
        return Err(std::io::Error::last_os_error());
    }
    // `c_long` is 32 bits on some targets; `from` widens there and is a no-op here.
    #[allow(clippy::useless_conversion)]
    Ok(KernelTimex {
        state,
        status: tx.status,
        maxerror_us: i64::from(tx.maxerror),
        esterror_us: i64::from(tx.esterror),
        precision_us: i64::from(tx.precision),
    })
}
