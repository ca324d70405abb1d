//! Issue 12, "Zero-config CI job tokens".
