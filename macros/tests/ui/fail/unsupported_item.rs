use writ_macros::{requirement, verifies};

#[requirement("runtime.state.id")]
struct S {
    a: u32,
}

#[requirement("runtime.state.id")]
use std::fmt;

#[verifies("runtime.state.id")]
impl S {}

#[requirement("runtime.state.id")]
const C: u32 = 1;

fn main() {
    let _ = S { a: C };
}
