//! The one integration-test binary. Every test runs gocred (and git) as real processes in a
//! cleared environment with a temporary HOME; see `common::TestEnv`.

mod common;

mod bad_input;
mod commands;
mod crash;
mod deadlines;
mod deny;
mod docs;
mod doctor;
mod exec;
mod files;
mod fuzz_corpus;
mod git_helper;
mod git_http;
mod go_goauth;
mod go_modules;
mod go_setup;
mod golden;
mod helper_semantics;
mod hygiene;
mod import_netrc;
mod keychain;
mod load;
mod login_device;
mod login_token;
mod logout;
mod netrc;
mod netrc_differential;
mod normalization;
mod nothing_lost;
mod oauth;
mod oauth_bad_input;
mod oauth_keychain;
mod oauth_login_flags;
mod oauth_network;
mod oauth_redirects;
mod oauth_vendors;
mod policy_trust;
mod proptests;
mod redaction;
mod regression;
mod setup_quoting;
mod status;
mod test_env;
