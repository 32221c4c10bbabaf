//! What every bench target shares.

/// Builds one bench row's subject and tries it out once, or says why the row
/// is skipped. A panic here (a learner's unfinished `todo!()`, a constructor
/// that refuses the bench's sizes) skips that row only: one broken crate never
/// stops the measurements of the others.
pub fn ready<T>(id: &str, try_out: impl FnOnce() -> T + std::panic::UnwindSafe) -> Option<T> {
    let default_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let outcome = std::panic::catch_unwind(try_out);
    std::panic::set_hook(default_hook);
    match outcome {
        Ok(subject) => Some(subject),
        Err(payload) => {
            let message = payload
                .downcast_ref::<&str>()
                .map(|s| (*s).to_owned())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "a panic without a message".to_owned());
            let advice = if message.contains("not yet implemented") {
                " (is every todo!() done?)"
            } else {
                ""
            };
            eprintln!("{id}: skipped, its setup panicked: {message}{advice}");
            None
        }
    }
}
