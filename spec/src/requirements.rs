//! The requirement table (generated from spec/requirements/*.toml by writ-codegen).
