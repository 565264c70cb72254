//! The `writ` command line over the runtime library (`writ`): the runc-compatible
//! commands, each argument mapping over [`writ::Container`]; the commands that are not
//! container operations (`spec`, `validate`); and the developer tooling (`coverage`,
//! `features`, `demo`, and the build-time trace of `#[requirement]` / `#[verifies]` uses
//! that they read).

pub mod commands;
pub mod foreground;
pub mod output;
pub mod trace;
