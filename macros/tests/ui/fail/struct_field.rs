use writ_macros::requirement;

struct S {
    #[requirement("runtime.state.id")]
    a: u32,
}

fn main() {
    let _ = S { a: 1 };
}
