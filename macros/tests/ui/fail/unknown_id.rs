use writ_macros::requirement;

#[requirement("zzz.qqq")]
fn f() {}

fn main() {
    f();
}
