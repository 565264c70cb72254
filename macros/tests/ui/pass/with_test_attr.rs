use writ_macros::verifies;

#[verifies("runtime.state.id")]
#[cfg_attr(test, test)]
fn under_test_harness() {}

#[test]
#[verifies("config.mounts.source")]
fn test_first() {}

async fn _later() {}

#[writ_macros::requirement("config.mounts.source")]
async fn async_handler() -> u8 {
    _later().await;
    1
}

fn main() {
    under_test_harness();
    let _ = async_handler();
}
