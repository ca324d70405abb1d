//! Where gocred keeps things. Every location can be overridden for tests and unusual machines.

use std::path::PathBuf;

/// `$GOCRED_CONFIG`, else `<config dir>/gocred/config.toml` (XDG on Linux).
pub fn config_file() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("GOCRED_CONFIG").filter(|p| !p.is_empty()) {
        return Some(PathBuf::from(p));
    }
    directories::BaseDirs::new().map(|d| d.config_dir().join("gocred").join("config.toml"))
}

/// `<data dir>/gocred/credentials`: the default file store.
pub fn default_file_store() -> Option<PathBuf> {
    directories::BaseDirs::new().map(|d| d.data_local_dir().join("gocred").join("credentials"))
}

/// A private directory for lock files: `$XDG_RUNTIME_DIR/gocred`, else the cache dir.
pub fn runtime_dir() -> Option<PathBuf> {
    let base = directories::BaseDirs::new()?;
    Some(
        base.runtime_dir()
            .unwrap_or_else(|| base.cache_dir())
            .join("gocred"),
    )
}
