use writ_macros::{requirement, verifies};

#[requirement("config.mounts.destinaton.absolute")]
fn f() {}

#[verifies("runtime.state.ids")]
fn t() {}

fn main() {
    f();
    t();
}
