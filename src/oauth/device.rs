//! The Device Authorization Grant, RFC 8628: ask for a user code (§3.1–3.2), then poll the token
//! endpoint (§3.4–3.5) at the server's `interval` (5 s when it names none), 5 s slower after each
//! `slow_down` (or at the new `interval` it names, when longer), until the user approves, denies,
//! or the code expires.

use super::{ACCEPT_JSON, Client, Endpoint, OAuthError, TokenSet, answer, token_set};
use crate::secret::Secret;
use std::time::{Duration, Instant};

/// RFC 8628 §3.5: the interval when the server names none, and the step `slow_down` adds.
const DEFAULT_INTERVAL: Duration = Duration::from_secs(5);
const SLOW_DOWN_STEP: Duration = Duration::from_secs(5);
const DEVICE_GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";

/// What the user is shown, and the code gocred polls with.
#[derive(Debug)]
pub struct DeviceAuthorization {
    pub device_code: Secret,
    pub user_code: String,
    pub verification_uri: String,
    /// The URI with the user code in it, for a QR code or a browser.
    pub verification_uri_complete: Option<String>,
    pub expires_in: Duration,
    pub interval: Duration,
}

/// One poll's outcome.
#[derive(Debug)]
pub enum Poll {
    /// Not approved yet (`authorization_pending`).
    Pending,
    /// `slow_down`: the interval grew.
    SlowDown,
    Done(TokenSet),
}

/// Text a server sends that gocred prints to a terminal: printable characters only.
fn printable(value: String, max: usize) -> Option<String> {
    (!value.is_empty() && value.chars().count() <= max && !value.chars().any(|c| c.is_control()))
        .then_some(value)
}

/// A URI to show or open: http(s), printable, no spaces.
fn uri(value: Option<String>) -> Option<String> {
    let v = printable(value?, 2000)?;
    let lower = v.to_ascii_lowercase();
    ((lower.starts_with("https://") || lower.starts_with("http://")) && !v.contains(' '))
        .then_some(v)
}

impl Client<'_, '_> {
    /// Device authorization request (RFC 8628 §3.1) for `scopes`.
    pub fn start_device(&self, scopes: &[String]) -> Result<DeviceAuthorization, OAuthError> {
        let endpoint = &self.endpoints.device_authorization;
        let scope = scopes.join(" ");
        let mut form = vec![("client_id", self.client_id.as_str())];
        if !scope.is_empty() {
            form.push(("scope", &scope));
        }
        let fields = self.post(endpoint, &form)?;
        let bad = |reason: &str| OAuthError::BadAnswer {
            what: "device authorization",
            host: endpoint.host(),
            status: 200,
            reason: reason.into(),
        };
        let device_code = fields
            .secret("device_code")
            .ok_or_else(|| bad("no device_code"))?;
        let user_code = fields
            .text("user_code")
            .and_then(|c| printable(c, 64))
            .ok_or_else(|| bad("no printable user_code"))?;
        // Some servers (Google) spell it verification_url.
        let verification_uri = uri(fields.text("verification_uri"))
            .or_else(|| uri(fields.text("verification_url")))
            .ok_or_else(|| bad("no http(s) verification_uri"))?;
        Ok(DeviceAuthorization {
            device_code,
            user_code,
            verification_uri,
            verification_uri_complete: uri(fields.text("verification_uri_complete")),
            expires_in: Duration::from_secs(
                fields
                    .number("expires_in")
                    .filter(|&s| s > 0)
                    .unwrap_or(900)
                    .min(24 * 3600),
            ),
            interval: fields
                .number("interval")
                .filter(|&s| s > 0)
                .map_or(DEFAULT_INTERVAL, |s| Duration::from_secs(s.min(300))),
        })
    }

    /// One device access token request (RFC 8628 §3.4). `slow_down` grows `device.interval`.
    pub fn poll_device(
        &self,
        device: &mut DeviceAuthorization,
        now: u64,
    ) -> Result<Poll, OAuthError> {
        let endpoint: &Endpoint = &self.endpoints.token;
        let reply = self.net.post_form(
            &endpoint.url,
            &[ACCEPT_JSON],
            &[
                ("grant_type", DEVICE_GRANT),
                ("device_code", device.device_code.expose()),
                ("client_id", &self.client_id),
            ],
        )?;
        match answer::parse(endpoint, &reply) {
            Ok(fields) => token_set(endpoint, fields, now).map(Poll::Done),
            Err(e) => match e.code() {
                Some("authorization_pending") => Ok(Poll::Pending),
                Some("slow_down") => {
                    // 5 s more (RFC 8628 §3.5), or the new interval the server names when that
                    // is longer (GitHub sends one and expects it to be kept).
                    let named = answer::number_in(&reply, "interval")
                        .map_or(Duration::ZERO, |s| Duration::from_secs(s.min(300)));
                    device.interval = (device.interval + SLOW_DOWN_STEP).max(named);
                    Ok(Poll::SlowDown)
                }
                _ => Err(e),
            },
        }
    }

    /// Polls until the user decides or the code expires. `tick` is called about once a second
    /// with the time left, for a countdown; `now` gives the epoch seconds.
    pub fn wait_for_approval(
        &self,
        device: &mut DeviceAuthorization,
        now: &dyn Fn() -> u64,
        tick: &mut dyn FnMut(Duration),
    ) -> Result<TokenSet, DeviceError> {
        let started = Instant::now();
        let deadline = started + device.expires_in;
        let mut next_poll = started + device.interval;
        loop {
            let at = Instant::now();
            if at >= deadline {
                return Err(DeviceError::Expired);
            }
            tick(deadline - at);
            if at >= next_poll {
                match self.poll_device(device, now()) {
                    Ok(Poll::Done(tokens)) => return Ok(tokens),
                    Ok(Poll::Pending | Poll::SlowDown) => {}
                    Err(e) => {
                        return Err(match e.code() {
                            Some("access_denied") => DeviceError::Denied,
                            Some("expired_token") => DeviceError::Expired,
                            _ => DeviceError::OAuth(e),
                        });
                    }
                }
                next_poll = Instant::now() + device.interval;
            }
            let wake = next_poll.min(deadline);
            let nap = wake
                .saturating_duration_since(Instant::now())
                .min(Duration::from_secs(1));
            std::thread::sleep(nap.max(Duration::from_millis(10)));
        }
    }
}

/// How a device flow can end without a token.
#[derive(Debug, thiserror::Error)]
pub enum DeviceError {
    #[error("the request was denied in the browser; nothing was stored")]
    Denied,
    #[error(
        "the code expired before it was approved; nothing was stored (run `gocred login` again)"
    )]
    Expired,
    #[error("{0}")]
    OAuth(#[from] OAuthError),
}
