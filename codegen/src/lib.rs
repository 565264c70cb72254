//! Code generation for writ-spec: the spec types, their validation, and the requirement table,
//! all from the pinned OCI runtime-spec schemas.
//!
//! # Pipeline
//!
//! 1. [`schema::load`] reads every `*.json` of the schema directory and compares its sha256
//!    with `spec/schema.lock` (a mismatch names the file and both hashes), then applies the
//!    errata of the pinned tag, each naming the upstream commit that fixes it.
//! 2. [`schema::normalise`] follows the cross-file `$ref`s of the three entry documents
//!    (config, state, features) into one model of named definitions. Objects and closed
//!    string sets become named types, with names from [`names::TYPE_NAMES`] (the spec's /
//!    specs-go names in Rust casing); aliases of primitives (`UID` -> `uint32`, `FilePath`,
//!    `Env`, ...) are inlined so that fields get plain types; `allOf` is merged; one-element
//!    `anyOf` is unwrapped.
//! 3. [`types`] hands one bundled schema to typify (shape only: integer widths are chosen
//!    here, constraints are left to validation) and tidies the output with `syn`: field order
//!    as in the schema, `Option<Vec<_>>`/`Option<BTreeMap<_>>` for optional arrays and maps,
//!    a `#[serde(flatten)] extra` map on every struct, `Default` where every field has one,
//!    short paths, and a split into `config.rs`, `state.rs` and `features.rs`.
//! 4. [`validate_gen`] writes one check function per named type that walks a raw
//!    `serde_json::Value` and reports every violation with its JSON pointer. Each schema
//!    `pattern` (ECMA-262) is emitted with its [`pattern::translate`]d regex-lite form, which
//!    writ-spec compiles at run time (regress, an ECMA engine, stays a build-time check).
//! 5. [`requirements::render_table`] renders the requirement table from
//!    `spec/requirements/*.toml`, and [`schema_ids`] resolves the entries' `schema` selectors
//!    into the table of which requirement each generated check enforces.
//!
//! # What typify 0.8 could not express, and what we do instead
//!
//! - Multi-file schemas: it panics on external `$ref`s and emits nothing for an untitled
//!   root. We bundle everything into one `definitions` map ourselves (step 2).
//! - Names: inline objects get path names (`SpecProcessRlimitsItem`) and colliding
//!   definitions (`Device` of linux, windows and freebsd) clash. We name every definition
//!   before typify sees it.
//! - Aliases: every `$ref` to a primitive becomes a newtype (`Gid(Uint32(u32))`). We inline
//!   them, so `uid: u32`.
//! - Ranges that are not exactly a Rust integer's (FileMode 0-511, percent 0-100) are dropped
//!   silently, and `minimum: 1` turns into `NonZeroU64` (hook timeout), which would make
//!   parsing fail on values runc accepts. We pick the Rust width ourselves (`u32` for
//!   FileMode so podman's 0o20666 parses, `i64` for the timeout) and check every bound,
//!   pattern, `minItems`, enum and required member in the generated validation.
//! - Optional arrays and maps become `Vec`/map with `skip_serializing_if = is_empty`, so an
//!   explicit `[]` vanished on a round-trip: rewritten to `Option<..>`.
//! - Unknown properties are dropped on re-serialisation (the schemas never say
//!   `additionalProperties`): every struct gets a flattened `extra` map.
//! - `patternProperties` becomes a map keyed by a regex-checked newtype: we generate a plain
//!   `BTreeMap<String, String>` and check the key pattern in validation.
//! - Draft-04 tuple `items` (the `iomems` erratum) is not supported: fixed as an erratum.
//! - Property order follows schemars' sorted map: restored to the schema's order.
//! - Prose-only rules (absolute paths, ioPriority 0-7, ...) are not in the schema at all:
//!   those are hand-written in `writ_spec::rules` and carry requirement ids.
// The generator is a development tool of this repository (its API is its own tests' and
// main's), not a published library: its items need no documentation of their own.
#![allow(missing_docs)]
pub mod bump;
pub mod docs;
pub mod generate;
pub mod git;
pub mod names;
pub mod pattern;
// The packed-table format, shared with writ-spec (which decodes it) and cli/build.rs.
#[allow(dead_code)]
#[path = "../../spec/src/packed.rs"]
mod packed;
pub mod requirements;
pub mod schema;
pub mod schema_ids;
pub mod types;
pub mod validate_gen;
