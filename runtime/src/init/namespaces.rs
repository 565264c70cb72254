//! The init's first phase: its namespaces (config-linux.md#namespaces). It joins and
//! creates them, gets its id maps written by create, becomes root of a new user
//! namespace and, when it unshared the pid namespace itself, forks the real init.

use crate::sync::Msg;
use crate::sys::{self, Context};

use super::{ensure_cgroup, expect_go, send, InitArgs, InitError};

/// Joins and creates namespaces, gets id maps written, and (when the pid namespace was
/// unshared here) forks the real init as a sibling.
pub(super) fn enter(a: &mut InitArgs) -> Result<(), InitError> {
    // Interfaces to move are looked up while still in the host's network namespace.
    let mut netdevs = None;
    if !a.plan.net_devices.is_empty() {
        let mut host = crate::netdev::Netlink::open()?;
        let prepared = crate::netdev::prepare(&mut host, &a.plan.net_devices)?;
        netdevs = Some((host, prepared));
    }
    for j in &a.joins {
        crate::namespaces::join(j)?;
    }
    if a.unshare != 0 {
        crate::namespaces::unshare(a.unshare)?;
    }
    if let Some((mut host, prepared)) = netdevs {
        crate::netdev::move_in(&mut host, &prepared)?;
    }
    if a.new_userns && !a.cloned_userns {
        send(a, &Msg::NeedMaps(0))?;
        expect_go(a)?;
    }
    if a.new_userns {
        // Become root of the new user namespace (mapped by now).
        nix::unistd::setresgid(0.into(), 0.into(), 0.into())
            .ctx("setting gid 0 in the user namespace")?;
        nix::unistd::setresuid(0.into(), 0.into(), 0.into())
            .ctx("setting uid 0 in the user namespace")?;
    }
    if a.unshare & libc::CLONE_NEWPID as u64 != 0 {
        // The forked process must be born inside the cgroup.
        ensure_cgroup(a)?;
        match sys::fork_with_flags(libc::CLONE_PARENT as u64)
            .ctx("forking the container process")?
        {
            sys::Forked::Child => {
                // Our parent is create (CLONE_PARENT). Had it died already, the channel
                // reports EOF at our next read and we exit.
                let _ = sys::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL as u64, 0);
            }
            sys::Forked::Parent(pid) => {
                let _ = a.chan.send(&Msg::Pid(pid));
                // SAFETY: the intermediate process ends here without running destructors.
                unsafe { libc::_exit(0) }
            }
        }
    }
    Ok(())
}

/// The container's hostname and domainname (config.md#hostname, #domainname), in its
/// uts namespace (new or joined).
pub(super) fn set_names(a: &InitArgs) -> Result<(), InitError> {
    if let Some(h) = &a.plan.hostname {
        nix::unistd::sethostname(h).with_ctx(|| format!("setting hostname {h:?}"))?;
    }
    if let Some(d) = &a.plan.domainname {
        // SAFETY: setdomainname with a pointer/length pair of a live string.
        let r = unsafe { libc::setdomainname(d.as_ptr().cast(), d.len()) };
        if r != 0 {
            return Err(sys::SysError::new(
                format!("setting domainname {d:?}"),
                sys::Errno::last(),
            )
            .into());
        }
    }
    Ok(())
}
