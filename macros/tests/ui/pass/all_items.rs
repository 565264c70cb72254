use writ_macros::{requirement, verifies};

/// A handler with its own docs.
#[requirement("config.mounts.destination.absolute")]
fn check_destination(d: &str) -> bool {
    d.starts_with('/')
}

#[requirement("config.mounts.destination.absolute", "config.mounts.source",)]
pub fn two_ids() {}

struct Mounts;

#[requirement("config.mounts.source")]
impl Mounts {
    fn new() -> Self {
        Mounts
    }

    #[requirement("runtime.state.id")]
    fn method(&self) -> u32 {
        7
    }

    #[writ_macros::requirement("runtime.state.id")]
    const fn konst(&self) -> u32 {
        8
    }
}

trait T {
    fn t(&self) -> u32;
}

impl T for Mounts {
    #[requirement("runtime.state.id")]
    fn t(&self) -> u32 {
        9
    }
}

#[requirement("runtime.state.id")]
mod state {
    pub fn id() -> &'static str {
        "c1"
    }
}

#[verifies("config.mounts.destination.absolute")]
#[test]
fn a_test() {
    assert!(check_destination("/proc"));
}

#[verifies("runtime.state.id", "config.mounts.source")]
#[test]
fn a_test_returning_a_result() -> Result<(), String> {
    Ok(())
}

fn main() {
    two_ids();
    let m = Mounts::new();
    assert_eq!(m.method() + m.konst() + m.t(), 24);
    assert_eq!(state::id(), "c1");
}
