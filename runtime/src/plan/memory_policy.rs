//! The plan of linux.memoryPolicy (config-linux.md#memory-policy): set_mempolicy(2)'s
//! mode, flags and node mask, checked; set by `crate::mempolicy` in the init.

use super::process::parse_cpu_list;
use super::{invalid, unsupported, PlanError};

/// linux.memoryPolicy, checked (config-linux.md#memory-policy): set_mempolicy(2)'s
/// mode with its flags, and the node mask.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemoryPolicyPlan {
    /// The `MPOL_*` mode or'ed with the `MPOL_F_*` flags.
    pub mode: i32,
    /// The mode's name, for messages.
    pub name: String,
    /// The node bit mask, 64 nodes a word; empty for no nodes.
    pub nodes: Vec<u64>,
}

/// `MPOL_PREFERRED_MANY` and `MPOL_WEIGHTED_INTERLEAVE` (Linux 5.15 and 6.9; not in libc).
const MPOL_PREFERRED_MANY: i32 = 5;
const MPOL_WEIGHTED_INTERLEAVE: i32 = 6;

/// The memory policy: every mode and flag of the spec (the features document lists them
/// all) mapped to set_mempolicy(2)'s numbers; what the kernel would refuse with a bare
/// EINVAL (nodes for a mode that takes none, none for one that needs some, flags that
/// exclude each other) is refused here naming the field.
#[writ_macros::requirement(
    "features_linux.memory_policy.modes.recognised",
    "features_linux.memory_policy.flags.recognised"
)]
pub fn memory_policy_plan(p: &writ_spec::MemoryPolicy) -> Result<MemoryPolicyPlan, PlanError> {
    use writ_spec::{MemoryPolicyFlag as F, MemoryPolicyMode as M};
    const AT: &str = "/linux/memoryPolicy";
    let Some(mode) = p.mode else {
        return Err(invalid(
            format!("{AT}/mode"),
            "a memory policy needs a mode [config_linux.memory_policy.mode.required]",
        ));
    };
    let (number, nodes_needed) = match mode {
        M::MpolDefault => (libc::MPOL_DEFAULT, Some(false)),
        M::MpolLocal => (libc::MPOL_LOCAL, Some(false)),
        M::MpolPreferred => (libc::MPOL_PREFERRED, None),
        M::MpolBind => (libc::MPOL_BIND, Some(true)),
        M::MpolInterleave => (libc::MPOL_INTERLEAVE, Some(true)),
        M::MpolWeightedInterleave => (MPOL_WEIGHTED_INTERLEAVE, Some(true)),
        M::MpolPreferredMany => (MPOL_PREFERRED_MANY, Some(true)),
        other => return Err(unsupported(format!("{AT}/mode"), other)),
    };
    let text = p.nodes.as_deref().unwrap_or("").trim();
    let list = if text.is_empty() {
        Vec::new()
    } else {
        parse_cpu_list(text).ok_or_else(|| {
            invalid(
                format!("{AT}/nodes"),
                format!("{text:?} is not a node list such as \"0-3,7\""),
            )
        })?
    };
    match nodes_needed {
        Some(false) if !list.is_empty() => {
            return Err(invalid(
                format!("{AT}/nodes"),
                format!("{mode} takes no nodes"),
            ));
        }
        Some(true) if list.is_empty() => {
            return Err(invalid(
                format!("{AT}/nodes"),
                format!("{mode} needs at least one node"),
            ));
        }
        _ => {}
    }
    let flags = p.flags.as_deref().unwrap_or(&[]);
    if flags.contains(&F::MpolFStaticNodes) && flags.contains(&F::MpolFRelativeNodes) {
        return Err(invalid(
            format!("{AT}/flags"),
            "MPOL_F_STATIC_NODES and MPOL_F_RELATIVE_NODES exclude each other",
        ));
    }
    if flags.contains(&F::MpolFNumaBalancing) && !matches!(mode, M::MpolBind | M::MpolPreferredMany)
    {
        return Err(invalid(
            format!("{AT}/flags"),
            format!("MPOL_F_NUMA_BALANCING goes with MPOL_BIND or MPOL_PREFERRED_MANY, not {mode}"),
        ));
    }
    let mut flag_bits = 0;
    for f in flags {
        flag_bits |= match f {
            F::MpolFNumaBalancing => libc::MPOL_F_NUMA_BALANCING,
            F::MpolFRelativeNodes => libc::MPOL_F_RELATIVE_NODES,
            F::MpolFStaticNodes => libc::MPOL_F_STATIC_NODES,
            other => return Err(unsupported(format!("{AT}/flags"), other)),
        };
    }
    let mut nodes = Vec::new();
    for n in list {
        let (word, bit) = (n / 64, n % 64);
        if nodes.len() <= word {
            nodes.resize(word + 1, 0u64);
        }
        nodes[word] |= 1 << bit;
    }
    Ok(MemoryPolicyPlan {
        mode: number | flag_bits,
        name: mode.to_string(),
        nodes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn plan(v: serde_json::Value) -> Result<MemoryPolicyPlan, PlanError> {
        memory_policy_plan(&serde_json::from_value(v).unwrap())
    }

    #[writ_macros::verifies(
        "features_linux.memory_policy.modes.recognised",
        "features_linux.memory_policy.flags.recognised"
    )]
    #[test]
    fn every_mode_and_flag_maps_to_set_mempolicy() {
        for (mode, number, nodes) in [
            ("MPOL_DEFAULT", 0, ""),
            ("MPOL_PREFERRED", 1, "1"),
            ("MPOL_BIND", 2, "0-1,65"),
            ("MPOL_INTERLEAVE", 3, "0"),
            ("MPOL_LOCAL", 4, ""),
            ("MPOL_PREFERRED_MANY", 5, "2"),
            ("MPOL_WEIGHTED_INTERLEAVE", 6, "3"),
        ] {
            let p = plan(json!({"mode": mode, "nodes": nodes})).unwrap();
            assert_eq!((p.mode, p.name.as_str()), (number, mode));
        }
        let p = plan(json!({"mode": "MPOL_BIND", "nodes": "0-1,65"})).unwrap();
        assert_eq!(p.nodes, [0b11, 0b10]);
        for (flag, bit) in [
            ("MPOL_F_STATIC_NODES", 1 << 15),
            ("MPOL_F_RELATIVE_NODES", 1 << 14),
            ("MPOL_F_NUMA_BALANCING", 1 << 13),
        ] {
            let p = plan(json!({"mode": "MPOL_BIND", "nodes": "0", "flags": [flag]})).unwrap();
            assert_eq!(p.mode, 2 | bit, "{flag}");
        }
    }

    #[test]
    fn what_the_kernel_would_refuse_is_refused_naming_the_field() {
        for (v, pointer, why) in [
            (
                json!({"nodes": "0"}),
                "/linux/memoryPolicy/mode",
                "needs a mode",
            ),
            (
                json!({"mode": "MPOL_DEFAULT", "nodes": "0"}),
                "/linux/memoryPolicy/nodes",
                "takes no nodes",
            ),
            (
                json!({"mode": "MPOL_BIND"}),
                "/linux/memoryPolicy/nodes",
                "at least one node",
            ),
            (
                json!({"mode": "MPOL_BIND", "nodes": "3-1"}),
                "/linux/memoryPolicy/nodes",
                "not a node list",
            ),
            (
                json!({"mode": "MPOL_BIND", "nodes": "0", "flags": ["MPOL_F_STATIC_NODES", "MPOL_F_RELATIVE_NODES"]}),
                "/linux/memoryPolicy/flags",
                "exclude each other",
            ),
            (
                json!({"mode": "MPOL_INTERLEAVE", "nodes": "0", "flags": ["MPOL_F_NUMA_BALANCING"]}),
                "/linux/memoryPolicy/flags",
                "MPOL_BIND or MPOL_PREFERRED_MANY",
            ),
        ] {
            let e = plan(v).unwrap_err().to_string();
            assert!(e.starts_with(pointer) && e.contains(why), "{e}");
        }
    }
}
