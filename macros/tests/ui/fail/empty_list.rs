use writ_macros::{requirement, verifies};

#[requirement()]
fn f() {}

#[verifies]
fn t() {}

fn main() {
    f();
    t();
}
