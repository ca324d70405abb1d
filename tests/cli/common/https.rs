//! The names the Go, doctor and vendor tests import for their loopback HTTPS servers. The server
//! itself is the one of `common::http` (plain and TLS); [`HttpsServer`] is that server, started
//! with a TLS configuration: `HttpsServer::start(addr, ca.server_config(&names), handler)`.

#[allow(unused_imports)] // every name the tests imported from here, used or not today
pub use super::http::{
    Handler, HttpServer as HttpsServer, Logged, Request, Response, TestCa, basic_auth,
    git_http_backend,
};
