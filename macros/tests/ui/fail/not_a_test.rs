use writ_macros::verifies;

// A helper, not a test.
#[verifies("runtime.state.id")]
fn helper() {}

#[verifies("runtime.state.id")]
#[test]
#[should_panic]
fn expected_panic() {
    panic!()
}

#[verifies("runtime.state.id")]
mod tests {}

fn main() {
    helper();
}
