//! The field table (`spec/fields.toml`) documents every generated type, member and value,
//! and names every requirement about the config's values that the schema or writ-spec's
//! rules check.

use writ_codegen::docs::Docs;
use writ_codegen::requirements::{self, Check};

mod common;

#[test]
fn every_schema_and_validate_requirement_of_the_documents_is_on_a_member() {
    let root = common::workspace();
    let model = common::model();
    let list = requirements::load(&root.join(requirements::LIST_DIR)).unwrap();
    let docs = Docs::load(&root, &model, &list, "v1.3.0").unwrap_or_else(|e| panic!("{e}"));
    let named = docs.named_ids();
    // The ids every other schema finding of a document names (`"** any"`) are about every
    // member, and are named on none.
    let defaults = [
        "config.valid_values.error",
        "runtime.state.schema",
        "features.document.provided",
    ];
    let documents = [
        "config.md",
        "config-linux.md",
        "features.md",
        "features-linux.md",
    ];
    let missing: Vec<&str> = list
        .iter()
        .filter(|r| documents.contains(&r.doc.as_str()))
        .filter(|r| matches!(r.check, Check::Schema | Check::Validate))
        .filter(|r| !named.contains(&r.id) && !defaults.contains(&r.id.as_str()))
        .map(|r| r.id.as_str())
        .collect();
    assert!(
        missing.is_empty(),
        "on no member of spec/fields.toml: {missing:#?}"
    );
}
