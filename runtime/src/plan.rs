//! The container plan: everything resolved from the config and checked against this host
//! before anything is touched. Plain data; built by `plan::build(&Spec, ...)`.

/// One hook to run (config.md#posix-platform-hooks).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct HookPlan {
    pub path: std::path::PathBuf,
    pub args: Vec<String>,
    pub env: Vec<String>,
    /// Seconds; `None` means no timeout.
    pub timeout: Option<u32>,
}
