//! Compile-time behaviour of #[requirement] / #[verifies], against a small fixture list.

#[test]
fn ui() {
    let fixtures = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join("fixtures")
        .join("requirements");
    // The macros read this variable at expansion time; trybuild's cargo inherits it.
    std::env::set_var("WRIT_REQUIREMENTS_DIR", &fixtures);
    let t = trybuild::TestCases::new();
    t.pass("tests/ui/pass/*.rs");
    t.compile_fail("tests/ui/fail/*.rs");
}
