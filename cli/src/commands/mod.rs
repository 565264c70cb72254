//! The `writ` subcommands that live in the command-line package. Each module defines its
//! clap `Args` and a `run(args) -> i32` that returns the process exit code.

pub mod coverage;
pub mod demo;
pub mod features;
pub mod spec;
pub mod validate;
