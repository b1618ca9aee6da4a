//! The process's entry point, in place of the Rust runtime's start. That
//! start finds the main thread's stack bounds for its stack-overflow
//! message (glibc reads /proc/self/maps for them) and maps an alternate
//! signal stack: a tenth of the default bundle's run time (`make bench`).
//! The rest of what it does is done here: a closed standard stream is
//! opened on /dev/null, SIGPIPE is ignored (a closed pipe is a write
//! error, exit 141), a panic exits 101, standard output is flushed at exit.
//! What is lost: a stack overflow is a bare SIGSEGV without Rust's
//! message, and a panic's message names the thread `<unnamed>`.

// Unit tests have the test harness's start.
#![cfg_attr(test, allow(dead_code))]

use std::ffi::c_int;

unsafe extern "C" {
    /// POSIX `signal`: the previous disposition, or `SIG_ERR`.
    fn signal(signum: c_int, handler: usize) -> usize;
}

/// `SIGPIPE` and `SIG_IGN`: the same numbers on every Unix.
const SIGPIPE: c_int = 13;
const SIG_IGN: usize = 1;

#[cfg(not(test))]
#[unsafe(no_mangle)]
extern "C" fn main(_argc: c_int, _argv: *const *const std::ffi::c_char) -> c_int {
    open_closed_standard_streams();
    // SAFETY: sets a signal's disposition to "ignore"; no code of ours
    // runs as a handler.
    unsafe { signal(SIGPIPE, SIG_IGN) };
    let code = std::panic::catch_unwind(crate::cli_main).map_or(PANIC, |status| status.code());
    let _ = std::io::Write::flush(&mut std::io::stdout().lock());
    c_int::from(code)
}

/// The exit code of a panic, as Rust's start gives it.
const PANIC: u8 = 101;

/// Standard input, output or error that the process was started without
/// is opened on /dev/null, as Rust's start does, so that no file the
/// program opens takes its number: /dev/null opens on the lowest free
/// number, kept while that is 0, 1 or 2 (close-on-exec, unlike Rust's
/// start: the program starts no other).
fn open_closed_standard_streams() {
    use std::os::fd::{AsRawFd, IntoRawFd};
    loop {
        let Ok(null) = std::fs::File::options()
            .read(true)
            .write(true)
            .open("/dev/null")
        else {
            // No /dev/null (or no descriptor left): nothing to fill with.
            return;
        };
        if null.as_raw_fd() > 2 {
            return;
        }
        let _ = null.into_raw_fd();
    }
}
