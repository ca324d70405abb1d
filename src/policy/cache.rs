//! The compiled-policy cache: `get` with a policy of 10,000 rules without parsing 700 KB of TOML
//! on every call.
//!
//! After a full, validating parse ([`super::load`]), the policy is written in a small binary form
//! to `<cache dir>/gocred/policy-<hash of the config path>.bin` (mode 0600, atomically). The file
//! is keyed on the config's path, size, mtime (ns), inode and device, gocred's version and a
//! format version; any mismatch, a short or corrupt file, or any read error means a full parse.
//! The cache is trusted only when it belongs to this user and no one else can write it, and it
//! is written only after a request the policy manages: a denied request leaves no trace on disk.
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
const FORMAT: u32 = 2;
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
    let hash = fnv(path.as_os_str().as_bytes());
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
    load_with_cache(path, target, cache_file(path))
}

fn load_with_cache(
    path: &Path,
    target: Option<&Target>,
    cache: Option<PathBuf>,
) -> Result<Policy, super::ConfigError> {
    if let (Some(target), Some(cache)) = (target, &cache)
        && let Some(policy) = read(cache, path, target)
    {
        return Ok(policy);
    }
    let policy = super::load(path)?;
    // Written only for a request the policy manages: a denied request leaves no trace on disk.
    if policy.exists
        && let (Some(cache), Some(target)) = (&cache, target)
        && matches!(
            policy.decide(target.clone()),
            super::Decision::Managed { .. }
        )
    {
        write(cache, path, &policy);
    }
    Ok(policy)
}

/// The cache decides which credential goes where, so it is trusted only when it is ours and
/// no one else can write it.
fn private_to_us(meta: &std::fs::Metadata) -> bool {
    use std::os::unix::fs::MetadataExt;
    // SAFETY: geteuid has no preconditions and cannot fail.
    let euid = unsafe { libc::geteuid() };
    meta.uid() == euid && meta.mode() & 0o022 == 0
}

fn fnv(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
    })
}

/// `len` bytes at `at`, whose last 8 are the checksum of the rest; the rest.
fn read_checked(file: &std::fs::File, at: u64, len: usize) -> Option<Vec<u8>> {
    use std::os::unix::fs::FileExt;
    if !(8..=64 << 20).contains(&len) {
        return None;
    }
    let mut buf = vec![0u8; len];
    file.read_exact_at(&mut buf, at).ok()?;
    let body = len - 8;
    (checksum(&buf[..body]).to_le_bytes() == buf[body..]).then(|| {
        buf.truncate(body);
        buf
    })
}

/// A 12-byte table entry: (offset, length).
fn entry(file: &std::fs::File, table: u64, i: usize) -> Option<(u64, usize)> {
    use std::os::unix::fs::FileExt;
    let mut buf = [0u8; 12];
    file.read_exact_at(&mut buf, table.checked_add(12 * i as u64)?)
        .ok()?;
    let mut r = Reader { b: &buf, at: 0 };
    Some((r.u64()?, r.u32()? as usize))
}

/// Reads only what `target` needs: the header, one bucket of the host index, and the candidate
/// rules, each piece checksummed and naming its own place, so a damaged file is never read as
/// another policy.
fn read(cache: &Path, path: &Path, target: &Target) -> Option<Policy> {
    use std::os::unix::fs::FileExt;
    let key = key(path)?;
    let file = std::fs::File::open(cache).ok()?;
    if !private_to_us(&file.metadata().ok()?) {
        return None; // another user could have written it: parse the config instead
    }
    let mut len = [0u8; 4];
    file.read_exact_at(&mut len, 0).ok()?;
    let header = read_checked(&file, 4, u32::from_le_bytes(len) as usize + 8)?;
    let mut r = Reader { b: &header, at: 0 };
    if r.bytes()? != key.as_slice() {
        return None;
    }
    let backend = *KeychainBackend::NAMES.get(usize::from(r.u8()?))?;
    let keychain_backend = KeychainBackend::parse(backend)?;
    let file_path = r.opt_str()?.map(PathBuf::from);
    let n_rules = r.u32()? as usize;
    let n_buckets = r.u32()? as usize;
    let mut candidates = Vec::new();
    for _ in 0..r.u32()? {
        candidates.push((r.u32()? as usize, true));
    }
    let rule_table = r.u64()?;
    let bucket_table = r.u64()?;
    if n_buckets > 0 {
        let b = (fnv(target.host.as_bytes()) % n_buckets as u64) as usize;
        let (at, len) = entry(&file, bucket_table, b)?;
        let bucket = read_checked(&file, at, len)?;
        let mut r = Reader { b: &bucket, at: 0 };
        if r.u32()? as usize != b {
            return None;
        }
        for _ in 0..r.u32()? {
            let host = r.bytes()?;
            let n = r.u32()?;
            let found = host == target.host.as_bytes();
            for _ in 0..n {
                let i = r.u32()? as usize;
                if found {
                    candidates.push((i, false));
                }
            }
        }
    }
    candidates.sort_unstable();
    let mut rules = Vec::with_capacity(candidates.len());
    for (i, wildcard) in candidates {
        if i >= n_rules {
            return None;
        }
        let (at, len) = entry(&file, rule_table, i)?;
        let record = read_checked(&file, at, len)?;
        let mut r = Reader { b: &record, at: 0 };
        if r.u32()? as usize != i {
            return None;
        }
        let rule = r.rule()?;
        let consistent = match &rule.pattern.host {
            HostPattern::Wildcard(_) => wildcard,
            HostPattern::Exact(h) => !wildcard && *h == target.host,
        };
        if !consistent {
            return None;
        }
        rules.push(rule);
    }
    Some(Policy {
        path: path.to_owned(),
        exists: true,
        rules,
        keychain_backend,
        file_path,
    })
}

/// `body` followed by its checksum.
fn sealed(body: Vec<u8>) -> Vec<u8> {
    let mut w = Writer(body);
    let sum = checksum(&w.0);
    w.u64(sum);
    w.0
}

/// Writes the cache for `policy` (just parsed from `path`); failures are ignored.
fn write(file: &Path, path: &Path, policy: &Policy) {
    use std::os::unix::fs::MetadataExt;
    let Ok(meta) = std::fs::metadata(path) else {
        return;
    };
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    if now - meta.mtime() < RACY_SECS {
        return;
    }
    if policy
        .file_path
        .as_ref()
        .is_some_and(|p| p.to_str().is_none())
    {
        return; // not UTF-8: not cached
    }
    let Some(key) = key(path) else { return };
    let n = policy.rules.len();
    // Host index: buckets by hash, each host with its rules in policy order.
    let mut hosts: std::collections::BTreeMap<&str, Vec<u32>> = Default::default();
    for (i, rule) in policy.rules.iter().enumerate() {
        if let HostPattern::Exact(h) = &rule.pattern.host {
            hosts.entry(h).or_default().push(i as u32);
        }
    }
    let n_buckets = hosts.len();
    let mut buckets: Vec<Vec<(&str, &Vec<u32>)>> = vec![Vec::new(); n_buckets];
    for (h, idx) in &hosts {
        buckets[(fnv(h.as_bytes()) % n_buckets as u64) as usize].push((h, idx));
    }
    let buckets: Vec<Vec<u8>> = buckets
        .iter()
        .enumerate()
        .map(|(b, entries)| {
            let mut w = Writer::default();
            w.u32(b as u32);
            w.u32(entries.len() as u32);
            for (h, idx) in entries {
                w.str(h);
                w.u32(idx.len() as u32);
                for i in *idx {
                    w.u32(*i);
                }
            }
            sealed(w.0)
        })
        .collect();
    let records: Vec<Vec<u8>> = policy
        .rules
        .iter()
        .enumerate()
        .map(|(i, rule)| {
            let mut w = Writer::default();
            w.u32(i as u32);
            w.rule(rule);
            sealed(w.0)
        })
        .collect();
    let mut h = Writer::default();
    h.bytes(&key);
    h.u8(KeychainBackend::NAMES
        .iter()
        .position(|name| *name == policy.keychain_backend.name())
        .unwrap_or(0) as u8);
    h.opt_str(policy.file_path.as_ref().and_then(|p| p.to_str()));
    h.u32(n as u32);
    h.u32(n_buckets as u32);
    let wild: Vec<usize> = (0..n)
        .filter(|&i| policy.rules[i].pattern.is_wildcard())
        .collect();
    h.u32(wild.len() as u32);
    for i in &wild {
        h.u32(*i as u32);
    }
    let header_len = h.0.len() + 16;
    let rule_table = (4 + header_len + 8) as u64;
    let bucket_table = rule_table + 12 * n as u64;
    h.u64(rule_table);
    h.u64(bucket_table);
    let mut w = Writer::default();
    w.u32(h.0.len() as u32);
    w.0.extend_from_slice(&sealed(h.0));
    let mut at = bucket_table + 12 * n_buckets as u64;
    let mut bucket_at = Vec::with_capacity(n_buckets);
    for b in &buckets {
        bucket_at.push(at);
        at += b.len() as u64;
    }
    for r in &records {
        w.u64(at);
        w.u32(r.len() as u32);
        at += r.len() as u64;
    }
    for (b, bat) in buckets.iter().zip(&bucket_at) {
        w.u64(*bat);
        w.u32(b.len() as u32);
    }
    for b in &buckets {
        w.0.extend_from_slice(b);
    }
    for r in &records {
        w.0.extend_from_slice(r);
    }
    debug_assert_eq!(w.0.len() as u64, at);
    if let Some(dir) = file.parent()
        && crate::fs::create_private_dir(dir).is_ok()
    {
        let _ = crate::fs::write_private_atomic(file, &w.0);
    }
}

/// A checksum of one piece of the file, 8 bytes at a time: damage is never read as a policy.
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
    fn written_only_for_a_managed_request_and_trusted_only_when_private() {
        use std::os::unix::fs::PermissionsExt;
        let (_dir, config, cache) = setup(POLICY);
        let denied = Target::new("https", "other.example", None).unwrap();
        let managed = Target::new("https", "git.corp.example", None).unwrap();
        load_with_cache(&config, Some(&denied), Some(cache.clone())).unwrap();
        assert!(!cache.exists(), "a denied request leaves no trace on disk");
        load_with_cache(&config, Some(&managed), Some(cache.clone())).unwrap();
        assert!(cache.exists());
        assert_eq!(
            std::fs::metadata(&cache).unwrap().permissions().mode() & 0o777,
            0o600
        );
        assert!(read(&cache, &config, &managed).is_some());
        for loose in [0o620, 0o602, 0o666] {
            std::fs::set_permissions(&cache, std::fs::Permissions::from_mode(loose)).unwrap();
            assert!(read(&cache, &config, &managed).is_none(), "mode {loose:o}");
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
        // Truncated or flipped bytes: no panic, and never another policy: either nothing (a
        // full parse follows) or, when the damage is in a piece this host does not need, the
        // same decision and the same rule.
        let (_dir2, config2, cache2) = setup(POLICY);
        let whole = super::super::load(&config2).unwrap();
        write(&cache2, &config2, &whole);
        let bytes = std::fs::read(&cache2).unwrap();
        let targets = [
            Target::new("https", "git.corp.example", Some("team/x")).unwrap(),
            Target::new("https", "a.b.corp.example", None).unwrap(),
            Target::new("https", "git.corp.example:8443", None).unwrap(),
            Target::new("http", "legacy.corp.example", None).unwrap(),
        ];
        let same = |t: &Target| {
            let Some(p) = read(&cache2, &config2, t) else {
                return true;
            };
            let (a, b) = (p.decide(t.clone()), whole.decide(t.clone()));
            let rule = |d: &Decision<'_>| match d {
                Decision::Managed { rule, scope, .. } => Some(format!("{rule:?} {scope}")),
                Decision::NotManaged => None,
            };
            rule(&a) == rule(&b)
        };
        for cut in [0, 3, 10, bytes.len() / 2, bytes.len() - 1] {
            std::fs::write(&cache2, &bytes[..cut]).unwrap();
            for t in &targets {
                assert!(same(t), "cut at {cut}");
            }
        }
        for i in 0..bytes.len() {
            let mut b = bytes.clone();
            b[i] ^= 0x5a;
            std::fs::write(&cache2, &b).unwrap();
            for t in &targets {
                assert!(same(t), "byte {i}");
            }
        }
        assert_eq!(std::fs::metadata(&cache).map(|m| m.len()).ok(), None);
    }
}
