use writ_macros::requirement;

#[requirement(runtime.state.id)]
fn f() {}

#[requirement("runtime.state.id", "runtime.state.id")]
fn g() {}

fn main() {
    f();
    g();
}
