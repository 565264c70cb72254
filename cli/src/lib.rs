//! The `writ` command line's own code, beside the runtime library (`writ`): the commands
//! that are not container operations (`spec`, `validate`) and the developer tooling
//! (`coverage`, `features`, `demo`, and the build-time trace of `#[requirement]` /
//! `#[verifies]` uses that they read).

pub mod commands;
pub mod trace;
