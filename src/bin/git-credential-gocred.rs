//! `git config credential.helper gocred` makes git run `git credential-gocred ACTION`, i.e. this
//! program (gitcredentials(7), "custom helpers"). It is gocred under the name git looks for,
//! started as `gocred` is (see `gocred::entry`).
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
