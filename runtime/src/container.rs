//! Creating a container: the runtime side of `create`, and the release done by `start`.

/// Name of the fifo in the state dir that holds the container process until `start`.
/// It exists exactly while the container is `created`.
pub const EXEC_FIFO: &str = "exec.fifo";
