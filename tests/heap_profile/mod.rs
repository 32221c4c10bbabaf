//! The dhat profiler of a report test: in testing mode, so the test can read
//! exact counts; or, when `cargo run -- heap-profile NN` sets
//! `WORKBOOK_DHAT_FILE`, one that also writes the whole profile to that file
//! for DHAT's viewer, as Go's `-memprofile` does.

/// Starts dhat for a report test. Keep it alive for the whole test.
pub fn profiler() -> dhat::Profiler {
    match std::env::var_os("WORKBOOK_DHAT_FILE") {
        Some(file) => dhat::Profiler::builder().file_name(file).build(),
        None => dhat::Profiler::builder().testing().build(),
    }
}
