//! linux.memoryPolicy (config-linux.md#memory-policy): the NUMA memory policy of the
//! container process, set with set_mempolicy(2) in the init before the exec (the policy
//! stays across execve and is inherited by children). The plan (`MemoryPolicyPlan`)
//! holds the mode, flags and node mask, already checked.

use crate::plan::MemoryPolicyPlan;
use crate::sys::{Errno, SysError};

/// Sets the calling thread's memory policy.
pub fn apply(p: &MemoryPolicyPlan) -> Result<(), SysError> {
    let (mask, maxnode) = if p.nodes.is_empty() {
        (std::ptr::null(), 0)
    } else {
        // maxnode counts one more than the bits the kernel reads (set_mempolicy(2)).
        (p.nodes.as_ptr(), p.nodes.len() * 64 + 1)
    };
    // SAFETY: set_mempolicy reads `maxnode - 1` bits from `mask`, which points at
    // `p.nodes` (that many bits long) or is null with maxnode 0.
    let r = unsafe { libc::syscall(libc::SYS_set_mempolicy, p.mode, mask, maxnode) };
    if r != 0 {
        let e = Errno::last();
        let hint = match e {
            Errno::EINVAL => {
                " (a node outside the container's cpuset.mems, or a mode or flag this kernel lacks)"
            }
            _ => "",
        };
        return Err(SysError::new(
            format!(
                "/linux/memoryPolicy: set_mempolicy({}, nodes {:?})",
                p.name,
                node_list(&p.nodes)
            ),
            e,
        )
        .hint(hint));
    }
    Ok(())
}

/// The nodes of a mask, as a list.
fn node_list(mask: &[u64]) -> Vec<usize> {
    (0..mask.len() * 64)
        .filter(|n| mask[n / 64] & (1 << (n % 64)) != 0)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The calling thread's policy mode and first mask word (get_mempolicy(2)).
    fn current() -> (i32, u64) {
        let (mut mode, mut mask) = (0i32, [0u64; 16]);
        // SAFETY: get_mempolicy writes the mode and at most 1024 bits into our buffers.
        let r = unsafe {
            libc::syscall(
                libc::SYS_get_mempolicy,
                &mut mode as *mut i32,
                mask.as_mut_ptr(),
                1025usize,
                0usize,
                0usize,
            )
        };
        assert_eq!(r, 0, "get_mempolicy: {}", Errno::last());
        (mode, mask[0])
    }

    #[test]
    fn the_policy_is_set_on_the_calling_thread() {
        // A test thread of its own: the policy is per thread.
        std::thread::spawn(|| {
            let plan = |v: serde_json::Value| {
                crate::plan::memory_policy::memory_policy_plan(&serde_json::from_value(v).unwrap()).unwrap()
            };
            apply(&plan(serde_json::json!({"mode": "MPOL_BIND", "nodes": "0"}))).unwrap();
            assert_eq!(current(), (libc::MPOL_BIND, 1));
            apply(&plan(serde_json::json!({"mode": "MPOL_PREFERRED", "nodes": "0", "flags": ["MPOL_F_STATIC_NODES"]}))).unwrap();
            assert_eq!(current(), (libc::MPOL_PREFERRED | libc::MPOL_F_STATIC_NODES, 1));
            let e = apply(&plan(serde_json::json!({"mode": "MPOL_BIND", "nodes": "1000"}))).unwrap_err().to_string();
            assert!(e.starts_with("/linux/memoryPolicy: set_mempolicy(MPOL_BIND, nodes [1000])"), "{e}");
            apply(&plan(serde_json::json!({"mode": "MPOL_DEFAULT"}))).unwrap();
            assert_eq!(current().0, libc::MPOL_DEFAULT);
        })
        .join()
        .unwrap();
    }

    #[test]
    fn nodes_of_a_mask() {
        assert_eq!(node_list(&[0b1011, 1]), [0, 1, 3, 64]);
        assert!(node_list(&[]).is_empty());
    }
}
