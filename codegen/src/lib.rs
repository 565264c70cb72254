//! Code generation for writ-spec: the spec types, their validation, and the requirement table,
//! all from the pinned OCI runtime-spec schemas.
pub mod generate;
pub mod names;
pub mod requirements;
pub mod schema;
pub mod types;
pub mod validate_gen;
