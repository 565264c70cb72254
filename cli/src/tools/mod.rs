//! The commands of `writ` that are not container operations: `spec` and `validate`
//! (config.json), `features` (what writ implements), `resources` (the resource catalogue), and the developer tooling,
//! `coverage` and `demo`. Each module defines its clap `Args` and a `run(args) -> i32`.

pub mod coverage;
pub mod demo;
pub mod features;
pub mod resources;
pub mod spec;
pub mod validate;
