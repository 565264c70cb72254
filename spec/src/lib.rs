//! OCI runtime-spec types, validation and the requirement table.

pub mod requirements;
