//! Test environment helpers (TestEnv: env_clear, temporary HOME/XDG dirs/git config).
