//! `gocred`. The C `main` is ours, so that the standard library's runtime set-up does not run
//! before every helper call; see [`gocred::entry`].
// (`cargo test` builds this file as a test harness too, which brings its own `main`.)
#![cfg_attr(not(test), no_main)]

#[cfg(not(test))]
#[unsafe(no_mangle)]
extern "C" fn main(
    _argc: std::ffi::c_int,
    _argv: *const *const std::ffi::c_char,
) -> std::ffi::c_int {
    gocred::entry::run()
}
