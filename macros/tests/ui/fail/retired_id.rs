use writ_macros::requirement;

// Close to a live id, but retired: the message says so instead of suggesting the live one.
#[requirement("config.mounts.type.windows")]
fn f() {}

fn main() {
    f();
}
