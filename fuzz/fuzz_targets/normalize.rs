//! `cargo fuzz run normalize`: see `fuzz/checks.rs` for what is checked on every input.
#![no_main]

#[path = "../checks.rs"]
mod checks;

libfuzzer_sys::fuzz_target!(|data: &[u8]| checks::normalize(data));
