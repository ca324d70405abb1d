//! The compiled-policy cache: `get` with a policy of 10,000 rules without parsing 700 KB of TOML
//! on every call.
//!
//! After a full, validating parse ([`super::load`]), the policy is written in a small binary form
//! to `<cache dir>/gocred/policy-<hash of the config path>.bin` (mode 0600, atomically). The file
//! is keyed on the config's path, size, mtime (ns), inode and device, gocred's version and a
//! format version; any mismatch, a short or corrupt file, or any read error means a full parse.
//! A config modified less than [`RACY_SECS`] before the cache would be written is not cached:
//! file systems stamp mtimes with a coarse clock, so two same-size edits in one tick would
//! otherwise look the same.
//!
//! The cache holds an index by exact host, so [`load_for`] decodes only the rules that could
//! match a request's host (that host's exact rules and every wildcard rule, in policy order);
//! [`super::Policy::decide`] over that subset picks what it picks over the whole policy, because
//! an exact-host rule matches only its own host. Only `get` uses it; `config check` and every
//! other command always parse the file.

use super::pattern::{HostPattern, UrlPattern};
use super::{KeychainBackend, OAuthConfig, OAuthProvider, Policy, Rule, SourceKind, Target};
use std::path::{Path, PathBuf};

const MAGIC: &[u8; 8] = b"GOCREDPC";
const FORMAT: u32 = 1;
const RACY_SECS: i64 = 2;

/// What identifies one version of the config file.
fn key(path: &Path) -> Option<Vec<u8>> {
    use std::os::unix::ffi::OsStrExt;
    use std::os::unix::fs::MetadataExt;
    let meta = std::fs::metadata(path).ok()?;
    let mut w = Writer::default();
    w.bytes(MAGIC);
    w.u32(FORMAT);
    w.str(env!("CARGO_PKG_VERSION"));
    w.bytes(path.as_os_str().as_bytes());
    w.u64(meta.size());
    w.u64(meta.mtime() as u64);
    w.u64(meta.mtime_nsec() as u64);
    w.u64(meta.ino());
    w.u64(meta.dev());
    Some(w.0)
}

fn cache_file(path: &Path) -> Option<PathBuf> {
    use std::os::unix::ffi::OsStrExt;
    // FNV-1a of the config path: one cache per config.
    let hash = path
        .as_os_str()
        .as_bytes()
        .iter()
        .fold(0xcbf2_9ce4_8422_2325u64, |h, &b| {
            (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
        });
    let base = directories::BaseDirs::new()?;
    Some(
        base.cache_dir()
            .join("gocred")
            .join(format!("policy-{hash:016x}.bin")),
    )
}

/// The policy at `path` for a request to `target`: from the cache when it is current (only the
/// rules that could match `target`), else a full parse (which refreshes the cache).
pub fn load_for(path: &Path, target: Option<&Target>) -> Result<Policy, super::ConfigError> {
    let cache = cache_file(path);
    if let (Some(target), Some(cache)) = (target, &cache)
        && let Some(policy) = read(cache, path, target)
    {
        return Ok(policy);
    }
    let policy = super::load(path)?;
    if policy.exists
        && let Some(cache) = &cache
    {
        write(cache, path, &policy);
    }
    Ok(policy)
}

fn read(cache: &Path, path: &Path, target: &Target) -> Option<Policy> {
    let key = key(path)?;
    let mut data = std::fs::read(cache).ok()?;
    let body = data.len().checked_sub(8)?;
    if checksum(&data[..body]).to_le_bytes() != data[body..] {
        return None;
    }
    data.truncate(body);
    let mut r = Reader { b: &data, at: 0 };
    if r.bytes()? != key.as_slice() {
        return None;
    }
    let backend = *KeychainBackend::NAMES.get(usize::from(r.u8()?))?;
    let keychain_backend = KeychainBackend::parse(backend)?;
    let file_path = r.opt_str()?.map(PathBuf::from);
    let n_rules = r.u32()? as usize;
    let offsets_at = r.at;
    r.at = r.at.checked_add(n_rules.checked_mul(4)?)?;
    let n_wild = r.u32()? as usize;
    let mut candidates = Vec::with_capacity(n_wild + 1);
    for _ in 0..n_wild {
        candidates.push(r.u32()? as usize);
    }
    // Exact hosts: a table of offsets to (host, indices), sorted by host.
    let n_hosts = r.u32()? as usize;
    let table = r.at;
    let entry = |i: usize| -> Option<Reader> {
        let mut t = Reader {
            b: &data,
            at: table + i * 4,
        };
        let at = t.u32()? as usize;
        Some(Reader { b: &data, at })
    };
    let (mut lo, mut hi) = (0usize, n_hosts);
    while lo < hi {
        let mid = (lo + hi) / 2;
        let mut e = entry(mid)?;
        let host = e.bytes()?;
        match host.cmp(target.host.as_bytes()) {
            std::cmp::Ordering::Less => lo = mid + 1,
            std::cmp::Ordering::Greater => hi = mid,
            std::cmp::Ordering::Equal => {
                for _ in 0..e.u32()? {
                    candidates.push(e.u32()? as usize);
                }
                break;
            }
        }
    }
    candidates.sort_unstable();
    let mut rules = Vec::with_capacity(candidates.len());
    for i in candidates {
        if i >= n_rules {
            return None;
        }
        let mut o = Reader {
            b: &data,
            at: offsets_at + i * 4,
        };
        let mut rr = Reader {
            b: &data,
            at: o.u32()? as usize,
        };
        rules.push(rr.rule()?);
    }
    Some(Policy {
        path: path.to_owned(),
        exists: true,
        rules,
        keychain_backend,
        file_path,
    })
}

/// Writes the cache for `policy` (just parsed from `path`); failures are ignored.
fn write(file: &Path, path: &Path, policy: &Policy) {
    let Ok(meta) = std::fs::metadata(path) else {
        return;
    };
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    {
        use std::os::unix::fs::MetadataExt;
        if now - meta.mtime() < RACY_SECS {
            return;
        }
    }
    let Some(key) = key(path) else { return };
    let mut w = Writer::default();
    w.bytes(&key);
    w.u8(KeychainBackend::NAMES
        .iter()
        .position(|n| *n == policy.keychain_backend.name())
        .unwrap_or(0) as u8);
    w.opt_str(policy.file_path.as_ref().and_then(|p| p.to_str()));
    if policy
        .file_path
        .as_ref()
        .is_some_and(|p| p.to_str().is_none())
    {
        return; // not UTF-8: not cached
    }
    let n = policy.rules.len();
    w.u32(n as u32);
    let offsets_at = w.0.len();
    w.0.resize(offsets_at + 4 * n, 0);
    let wild: Vec<usize> = (0..n)
        .filter(|&i| policy.rules[i].pattern.is_wildcard())
        .collect();
    w.u32(wild.len() as u32);
    for i in &wild {
        w.u32(*i as u32);
    }
    let mut hosts: std::collections::BTreeMap<&[u8], Vec<u32>> = Default::default();
    for (i, rule) in policy.rules.iter().enumerate() {
        if let HostPattern::Exact(h) = &rule.pattern.host {
            hosts.entry(h.as_bytes()).or_default().push(i as u32);
        }
    }
    w.u32(hosts.len() as u32);
    let table = w.0.len();
    w.0.resize(table + 4 * hosts.len(), 0);
    for (k, (host, idx)) in hosts.iter().enumerate() {
        let at = w.0.len() as u32;
        w.0[table + 4 * k..table + 4 * k + 4].copy_from_slice(&at.to_le_bytes());
        w.bytes(host);
        w.u32(idx.len() as u32);
        for i in idx {
            w.u32(*i);
        }
    }
    for (i, rule) in policy.rules.iter().enumerate() {
        let at = w.0.len() as u32;
        w.0[offsets_at + 4 * i..offsets_at + 4 * i + 4].copy_from_slice(&at.to_le_bytes());
        w.rule(rule);
    }
    if let Some(dir) = file.parent()
        && crate::fs::create_private_dir(dir).is_ok()
    {
        let sum = checksum(&w.0);
        w.u64(sum);
        let _ = crate::fs::write_private_atomic(file, &w.0);
    }
}

/// A checksum of the whole file, 8 bytes at a time (~0.1 ms for 1 MB): a damaged cache is never
/// read as a different policy.
fn checksum(data: &[u8]) -> u64 {
    let mut h = 0x9e37_79b9_7f4a_7c15u64 ^ data.len() as u64;
    let mut chunks = data.chunks_exact(8);
    for c in &mut chunks {
        let v = u64::from_le_bytes(c.try_into().unwrap_or_default());
        h = (h ^ v).wrapping_mul(0xff51_afd7_ed55_8ccd).rotate_left(29);
    }
    for &b in chunks.remainder() {
        h = (h ^ u64::from(b))
            .wrapping_mul(0xc4ce_b9fe_1a85_ec53)
            .rotate_left(29);
    }
    h
}

#[derive(Default)]
struct Writer(Vec<u8>);

impl Writer {
    fn u8(&mut self, v: u8) {
        self.0.push(v);
    }
    fn u32(&mut self, v: u32) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }
    fn u64(&mut self, v: u64) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }
    fn bytes(&mut self, b: &[u8]) {
        self.u32(b.len() as u32);
        self.0.extend_from_slice(b);
    }
    fn str(&mut self, s: &str) {
        self.bytes(s.as_bytes());
    }
    fn opt_str(&mut self, s: Option<&str>) {
        match s {
            None => self.u8(0),
            Some(s) => {
                self.u8(1);
                self.str(s);
            }
        }
    }
    fn strs(&mut self, v: &[String]) {
        self.u32(v.len() as u32);
        for s in v {
            self.str(s);
        }
    }
    fn kind(&mut self, k: SourceKind) {
        self.u8(match k {
            SourceKind::Keychain => 0,
            SourceKind::File => 1,
            SourceKind::Env => 2,
            SourceKind::OAuth => 3,
        });
    }
    fn rule(&mut self, r: &Rule) {
        // Every field, by destructuring: a new field fails to compile here (bump FORMAT).
        let Rule {
            url,
            pattern,
            sources,
            username,
            token_env,
            store,
            allow_http,
            oauth,
            goauth_preemptive,
            line,
        } = r;
        self.str(url);
        let UrlPattern {
            scheme,
            host,
            port,
            path,
        } = pattern;
        self.str(scheme);
        match host {
            HostPattern::Exact(h) => {
                self.u8(0);
                self.str(h);
            }
            HostPattern::Wildcard(h) => {
                self.u8(1);
                self.str(h);
            }
        }
        self.u32(port.map_or(0, u32::from));
        self.opt_str(path.as_deref());
        self.u32(sources.len() as u32);
        for s in sources {
            self.kind(*s);
        }
        self.opt_str(username.as_deref());
        self.opt_str(token_env.as_deref());
        match store {
            None => self.u8(255),
            Some(k) => self.kind(*k),
        }
        self.u8(u8::from(*allow_http));
        self.u8(u8::from(*goauth_preemptive));
        self.u64(*line as u64);
        match oauth {
            None => self.u8(0),
            Some(o) => {
                self.u8(1);
                let OAuthConfig {
                    provider,
                    client_id,
                    scopes,
                    issuer,
                    device_authorization_endpoint,
                    token_endpoint,
                    revocation_endpoint,
                    store,
                } = o;
                self.str(provider.name());
                self.str(client_id);
                match scopes {
                    None => self.u8(0),
                    Some(s) => {
                        self.u8(1);
                        self.strs(s);
                    }
                }
                self.opt_str(issuer.as_deref());
                self.opt_str(device_authorization_endpoint.as_deref());
                self.opt_str(token_endpoint.as_deref());
                self.opt_str(revocation_endpoint.as_deref());
                self.kind(*store);
            }
        }
    }
}

struct Reader<'b> {
    b: &'b [u8],
    at: usize,
}

impl<'b> Reader<'b> {
    fn take(&mut self, n: usize) -> Option<&'b [u8]> {
        let end = self.at.checked_add(n)?;
        let s = self.b.get(self.at..end)?;
        self.at = end;
        Some(s)
    }
    fn u8(&mut self) -> Option<u8> {
        Some(self.take(1)?[0])
    }
    fn u32(&mut self) -> Option<u32> {
        Some(u32::from_le_bytes(self.take(4)?.try_into().ok()?))
    }
    fn u64(&mut self) -> Option<u64> {
        Some(u64::from_le_bytes(self.take(8)?.try_into().ok()?))
    }
    fn bytes(&mut self) -> Option<&'b [u8]> {
        let n = self.u32()? as usize;
        self.take(n)
    }
    fn str(&mut self) -> Option<String> {
        Some(std::str::from_utf8(self.bytes()?).ok()?.to_owned())
    }
    fn opt_str(&mut self) -> Option<Option<String>> {
        match self.u8()? {
            0 => Some(None),
            1 => Some(Some(self.str()?)),
            _ => None,
        }
    }
    fn kind(&mut self) -> Option<SourceKind> {
        Some(match self.u8()? {
            0 => SourceKind::Keychain,
            1 => SourceKind::File,
            2 => SourceKind::Env,
            3 => SourceKind::OAuth,
            _ => return None,
        })
    }
    fn rule(&mut self) -> Option<Rule> {
        let url = self.str()?;
        let scheme = self.str()?;
        let host = match self.u8()? {
            0 => HostPattern::Exact(self.str()?),
            1 => HostPattern::Wildcard(self.str()?),
            _ => return None,
        };
        let port = match self.u32()? {
            0 => None,
            p => Some(u16::try_from(p).ok()?),
        };
        let path = self.opt_str()?;
        let mut sources = Vec::new();
        for _ in 0..self.u32()? {
            sources.push(self.kind()?);
        }
        let username = self.opt_str()?;
        let token_env = self.opt_str()?;
        let store = match self.u8()? {
            255 => None,
            _ => {
                self.at -= 1;
                Some(self.kind()?)
            }
        };
        let allow_http = self.u8()? != 0;
        let goauth_preemptive = self.u8()? != 0;
        let line = usize::try_from(self.u64()?).ok()?;
        let oauth = match self.u8()? {
            0 => None,
            1 => {
                let provider = OAuthProvider::parse(&self.str()?)?;
                let client_id = self.str()?;
                let scopes = match self.u8()? {
                    0 => None,
                    1 => {
                        let mut v = Vec::new();
                        for _ in 0..self.u32()? {
                            v.push(self.str()?);
                        }
                        Some(v)
                    }
                    _ => return None,
                };
                Some(OAuthConfig {
                    provider,
                    client_id,
                    scopes,
                    issuer: self.opt_str()?,
                    device_authorization_endpoint: self.opt_str()?,
                    token_endpoint: self.opt_str()?,
                    revocation_endpoint: self.opt_str()?,
                    store: self.kind()?,
                })
            }
            _ => return None,
        };
        Some(Rule {
            url,
            pattern: UrlPattern {
                scheme,
                host,
                port,
                path,
            },
            sources,
            username,
            token_env,
            store,
            allow_http,
            oauth,
            goauth_preemptive,
            line,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::Decision;

    const POLICY: &str = r#"
[keychain]
backend = "keyutils"

[file]
path = "/tmp/somewhere/credentials"

[[rule]]
url = "https://git.corp.example"
sources = ["file"]
store = "file"

[[rule]]
url = "https://git.corp.example/team/"
sources = ["env", "file"]
username = "ci"
token_env = "CI_TOKEN"
store = "file"

[[rule]]
url = "https://*.corp.example"
sources = ["keychain"]
store = "keychain"

[[rule]]
url = "https://*.b.corp.example"
sources = ["keychain"]

[[rule]]
url = "https://git.corp.example:8443"
sources = ["oauth"]
goauth = "preemptive"

[rule.oauth]
provider = "gitlab"
client_id = "abc"
scopes = ["read_repository"]

[[rule]]
url = "http://legacy.corp.example"
sources = ["file"]
allow_http = true
"#;

    fn setup(text: &str) -> (tempfile::TempDir, PathBuf, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("config.toml");
        std::fs::write(&config, text).unwrap();
        let old = std::time::SystemTime::now() - std::time::Duration::from_secs(60);
        std::fs::File::options()
            .write(true)
            .open(&config)
            .unwrap()
            .set_modified(old)
            .unwrap();
        let cache = dir.path().join("cache/policy.bin");
        (dir, config, cache)
    }

    fn summary(d: Decision<'_>) -> Option<(String, String, usize)> {
        match d {
            Decision::NotManaged => None,
            Decision::Managed { rule, scope, .. } => Some((rule.url.clone(), scope.0, rule.line)),
        }
    }

    #[test]
    fn the_cached_subset_decides_exactly_as_the_whole_policy() {
        let (_dir, config, cache) = setup(POLICY);
        let full = super::super::load(&config).unwrap();
        write(&cache, &config, &full);
        assert!(cache.exists());
        for (scheme, host, path) in [
            ("https", "git.corp.example", None),
            ("https", "GIT.corp.example.", Some("team/repo")),
            ("https", "git.corp.example", Some("team")),
            ("https", "git.corp.example", Some("teamx/repo")),
            ("https", "git.corp.example:8443", None),
            ("https", "a.b.corp.example", None),
            ("https", "corp.example", None),
            ("https", "other.example", None),
            ("https", "evil.com", None),
            ("http", "legacy.corp.example", None),
            ("http", "git.corp.example", None),
        ] {
            let t = Target::new(scheme, host, path).unwrap();
            let cached = read(&cache, &config, &t).expect("cache is current");
            assert_eq!(cached.keychain_backend, full.keychain_backend);
            assert_eq!(cached.file_path, full.file_path);
            assert_eq!(
                summary(cached.decide(t.clone())),
                summary(full.decide(t.clone())),
                "{scheme}://{host} {path:?}"
            );
            if let Decision::Managed { rule, .. } = cached.decide(t.clone()) {
                let whole = full.rules.iter().find(|r| r.line == rule.line).unwrap();
                assert_eq!(format!("{rule:?}"), format!("{whole:?}"));
            }
        }
    }

    #[test]
    fn any_change_or_damage_means_a_full_parse() {
        let (_dir, config, cache) = setup(POLICY);
        let full = super::super::load(&config).unwrap();
        write(&cache, &config, &full);
        let t = Target::new("https", "git.corp.example", None).unwrap();
        assert!(read(&cache, &config, &t).is_some());
        // Same size, other content, other mtime.
        let edited = POLICY.replace("client_id = \"abc\"", "client_id = \"xyz\"");
        assert_eq!(edited.len(), POLICY.len());
        std::fs::write(&config, &edited).unwrap();
        assert!(read(&cache, &config, &t).is_none(), "mtime differs");
        // A config just written is not cached (a same-size edit in the same tick would hide).
        let fresh = super::super::load(&config).unwrap();
        std::fs::remove_file(&cache).unwrap();
        write(&cache, &config, &fresh);
        assert!(!cache.exists(), "racy: not written");
        // Truncated or flipped bytes: no panic, a full parse.
        let (_dir2, config2, cache2) = setup(POLICY);
        write(&cache2, &config2, &super::super::load(&config2).unwrap());
        let bytes = std::fs::read(&cache2).unwrap();
        for cut in [0, 10, bytes.len() / 2, bytes.len() - 1] {
            std::fs::write(&cache2, &bytes[..cut]).unwrap();
            assert!(read(&cache2, &config2, &t).is_none());
        }
        for i in (0..bytes.len()).step_by(7) {
            let mut b = bytes.clone();
            b[i] ^= 0xff;
            std::fs::write(&cache2, &b).unwrap();
            assert!(read(&cache2, &config2, &t).is_none(), "byte {i}");
        }
        assert_eq!(std::fs::metadata(&cache).map(|m| m.len()).ok(), None);
    }
}
