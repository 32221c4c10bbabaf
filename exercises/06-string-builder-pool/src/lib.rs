//! placeholder until `cargo run -- stub 06 --write`
