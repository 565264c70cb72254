//! The `writ` command line over the runtime library (`writ`): the runc-compatible
//! commands (`commands`), each argument mapping over [`writ::Container`]; the commands
//! that are not container operations (`tools`: `spec`, `validate`) and the developer
//! tooling (`tools`: `coverage`, `features`, `demo`, and the build-time trace of
//! `#[requirement]` / `#[verifies]` uses that they read).

// Not a library API (the package is not published): its items are documented where a
// reader needs it, and the clap arguments by their help texts.
#![allow(missing_docs)]

pub mod commands;
pub mod foreground;
pub mod output;
pub mod tools;
pub mod trace;
pub mod update_flags;
