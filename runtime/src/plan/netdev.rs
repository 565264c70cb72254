//! The plan of linux.netDevices (config-linux.md#network-devices). `crate::netdev`
//! moves the interfaces.

use super::namespaces::{NamespaceKind, Namespaces};
use super::{invalid, PlanError};

/// One interface to move: host name, name inside the container.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NetDevicePlan {
    /// The interface's name on the host.
    pub host: String,
    /// Its name inside the container.
    pub name: String,
}

/// The interfaces to move; they need a network namespace, and writ does not move them
/// into a user namespace.
pub(super) fn net_devices_of(
    linux: &writ_spec::Linux,
    ns: &Namespaces,
) -> Result<Vec<NetDevicePlan>, PlanError> {
    let mut out = Vec::new();
    for (host, d) in linux.net_devices.iter().flatten() {
        let ptr = format!("/linux/netDevices/{host}");
        let name = d
            .name
            .clone()
            .filter(|n| !n.is_empty())
            .unwrap_or_else(|| host.clone());
        if name.len() > 15 || name.contains('/') || name.chars().any(char::is_whitespace) {
            return Err(invalid(
                format!("{ptr}/name"),
                format!("{name:?} is not a valid interface name"),
            ));
        }
        if ns.get(NamespaceKind::Network).is_none() {
            return Err(invalid(
                ptr,
                "moving an interface needs a network namespace",
            ));
        }
        if ns.get(NamespaceKind::User).is_some() {
            return Err(invalid(
                ptr,
                "moving interfaces into a container with a user namespace is not supported by writ",
            ));
        }
        out.push(NetDevicePlan {
            host: host.clone(),
            name,
        });
    }
    Ok(out)
}
