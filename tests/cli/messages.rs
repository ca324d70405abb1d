//! Issue 10, "Messages": one error model (a kind that picks the exit code, `Caused by:` and
//! `Hint:` lines), no Rust Debug text, a repeated problem said once, a non-UTF-8 config named by
//! line, an invalid `GOCRED_HTTP_TIMEOUT` refused, and a hint when `gocred get` reads a terminal.
