use writ_macros::verifies;

#[verifies("runtime.state.id")]
#[test]
fn tagged_test() {}

#[writ_macros::verifies("config.mounts.source")]
#[core::prelude::v1::test]
fn tagged_by_path() {}

async fn _later() {}

#[writ_macros::requirement("config.mounts.source")]
async fn async_handler() -> u8 {
    _later().await;
    1
}

fn main() {
    let _ = async_handler();
}
