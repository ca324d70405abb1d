//! gocred: a Git credential helper and per-host credential policy for Go and Git users on
//! self-hosted GitLab and GitHub Enterprise.
//!
//! Data flows one way: stdin → [`protocol`] → [`policy`] → [`source`] → stdout.

pub mod agent;
pub mod audit;
pub mod ci;
pub mod cli;
pub mod doctor;
pub mod entry;
pub mod exec;
pub mod fs;
pub mod gitconfig;
pub mod goauth;
pub mod goenv;
pub mod login;
pub mod logout;
pub mod net;
pub mod netrc;
pub mod oauth;
pub mod paths;
pub mod policy;
pub mod protocol;
pub mod redact;
pub mod secret;
pub mod setup;
pub mod source;
pub mod status;
pub mod time;
pub mod why;
