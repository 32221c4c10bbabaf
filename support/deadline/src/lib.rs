//! Test support for the thread-safe chapters: a deadlock must fail its test,
//! not hang the whole test binary; and the text of a caught panic. Shared by the chapters' test files (a
//! dev-dependency of each exercise and solution), so they all say the same
//! thing when a test takes too long.

use std::sync::mpsc;
use std::thread;
use std::time::Duration;

/// Runs `f` on another thread and fails (panics) if it takes longer than
/// `secs` seconds, naming `what` did not finish; a panic in `f` is passed on
/// as it was. Miri finds deadlocks itself (and its clock is not the wall
/// clock), so under Miri it just runs `f`.
///
/// ```
/// deadline::within(5, "adding two numbers", || assert_eq!(1 + 1, 2));
/// ```
pub fn within(secs: u64, what: &str, f: impl FnOnce() + Send + 'static) {
    if cfg!(miri) {
        f();
        return;
    }
    let (done, finished) = mpsc::channel();
    let worker = thread::spawn(move || {
        f();
        let _ = done.send(());
    });
    match finished.recv_timeout(Duration::from_secs(secs)) {
        Ok(()) => worker
            .join()
            .expect("the test body finished, so its thread must join"),
        Err(mpsc::RecvTimeoutError::Disconnected) => {
            if let Err(panic) = worker.join() {
                std::panic::resume_unwind(panic);
            }
        }
        Err(mpsc::RecvTimeoutError::Timeout) => panic!(
            "{what} did not finish in {secs} s: something waits for what never comes (two threads \
             waiting for each other, a loop or spin that never ends, a wake-up nobody sends, or \
             a lock held while code the pool calls (a factory, reset, task or an object's Drop) \
             uses the pool again)"
        ),
    }
}

/// The text of a caught panic: the `&str` of `panic!("text")` or the
/// `String` of `panic!("{x}")`; empty for any other payload.
///
/// ```
/// let payload = std::panic::catch_unwind(|| panic!("on purpose: {}", 7)).unwrap_err();
/// assert_eq!(deadline::panic_message(&*payload), "on purpose: 7");
/// ```
pub fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_default()
}
