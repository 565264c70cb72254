//! The writ binary must not be writable from any container through `/proc/<pid>/exe`
//! (the CVE-2019-5736 class).
//!
//! # The attack
//! The container's init is a fork of `writ create`, so until it execs the user program
//! its `/proc/<pid>/exe` is the host's writ binary. A process that can open that link
//! (a sibling container sharing the init's pid namespace, or anything with
//! CAP_SYS_PTRACE over it) opens it `O_PATH` and waits. Writing it at once fails: on
//! Linux 6.x (checked here on 6.18) a file that is the `mm->exe_file` of a live process,
//! also of a forked one, still refuses a writable open with ETXTBSY. But once the init has
//! exec'd and no writ process is left, re-opening `/proc/self/fd/N` for writing succeeds
//! and the attacker rewrites the host's writ, which root runs next.
//!
//! Non-dumpability (create sets it before the clone) closes `/proc/<pid>/exe` to
//! processes without CAP_SYS_PTRACE over the host's user namespace only; a container
//! granted CAP_SYS_PTRACE still gets there.
//!
//! # The choice: run `create` from a detached read-only bind mount of the binary
//! `create` and `run` (the commands that fork a container's init) re-exec themselves once,
//! first thing, through a view of the binary that cannot be written, so every init they
//! fork has that view as its exe:
//!
//! 1. A read-only bind mount of the binary file that is never attached anywhere:
//!    `open_tree(OPEN_TREE_CLONE)` of the binary, `mount_setattr(MOUNT_ATTR_RDONLY)`,
//!    `execveat` of that fd, which is close-on-exec: the exec closes it, and with it the
//!    mount's anonymous namespace, so from the first instruction of the re-exec'd process
//!    the view is a mount in no namespace. Every writable open through it fails with
//!    EROFS (ETXTBSY first while a process runs the file). It cannot be made writable:
//!    cloning it (`open_tree`), clearing its flag (`mount_setattr`, `MS_REMOUNT|MS_BIND`),
//!    binding or moving it elsewhere all fail with EINVAL on a mount in no namespace
//!    (checked here; the unit tests do it again). It costs about 0.1 ms (the namespace's
//!    release takes an RCU grace period, during the exec) plus one exec; nothing is
//!    copied, nothing is mounted in any namespace (no mount event, nothing in
//!    mountinfo).
//! 2. Otherwise (a kernel without open_tree/mount_setattr, Linux < 5.12, or a caller not
//!    privileged to make mounts): a sealed memfd copy (F_SEAL_WRITE | SHRINK | GROW |
//!    SEAL), as runc does for rootless containers; it costs a copy of the binary.
//!
//! Rejected: an unconditional memfd copy (youki; a copy of the binary on every call, 2.5×
//! crun's start cost); the lower-only overlayfs view runc 1.2 uses (its read-only
//! superblock is a second barrier, but releasing a private overlay costs two synchronous
//! RCU grace periods, 2-10 ms each on this busy 2-core host, one of them when the
//! container's process execs, measured 7 ms between `start` returning and the process
//! running; the bind mount above is just as impossible to write once detached); an
//! attached read-only bind mount (a mount event in the host's namespace per create, and
//! anyone with CAP_SYS_ADMIN in that namespace could remount it); handing the view's last
//! reference to a detached grandchild so that the exec does not wait for the namespace's
//! release (tried 2026-12-02: while anything holds the anonymous namespace, the view can
//! still be cloned with `open_tree(OPEN_TREE_CLONE)` and the clone made writable, so the
//! re-exec'd process's own check failed, as it must; and on a quiet host the two forks
//! cost more, 2.6-2.9 ms against 2.1-2.2 for a failing `create`, than the grace period
//! they hide); relying on ETXTBSY (gone
//! once the last writ process exits) or on non-dumpability alone (not against
//! CAP_SYS_PTRACE).
//!
//! The re-exec is guarded by an environment variable; the re-exec'd process checks that
//! its exe really is such a view and fails otherwise (it never loops). `start`, `state`,
//! `kill` and `delete` fork no init and are not re-exec'd. What remains: the shared
//! libraries writ maps are host files, reachable through `/proc/<pid>/map_files` only
//! with CAP_SYS_ADMIN (or CAP_CHECKPOINT_RESTORE) in the host's user namespace and
//! ptrace access; a container with those can reach the host without writ anyway.

use std::ffi::{CString, OsString};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use rustix::fs::{Mode, OFlags};

/// Set in the environment of the re-exec'd process (and removed from it there).
const SEALED_ENV: &str = "_WRIT_EXESEAL";

/// Why the binary could not be protected.
#[derive(Debug, thiserror::Error)]
pub enum SealError {
    /// A system call of the protection failed.
    #[error("protecting the writ binary (CVE-2019-5736): {what}: {source}")]
    Io {
        /// What was being done.
        what: &'static str,
        /// Why it failed.
        source: std::io::Error,
    },
    /// The re-executed binary is still writable through /proc/self/exe.
    #[error("protecting the writ binary (CVE-2019-5736): after the re-exec, /proc/self/exe is still writable ({0})")]
    NotSealed(String),
}

fn io_err(what: &'static str) -> impl FnOnce(rustix::io::Errno) -> SealError {
    move |e| SealError::Io {
        what,
        source: e.into(),
    }
}

/// Makes sure this process runs from a read-only view of the writ binary: returns when it
/// does (after checking), else re-execs itself through one and never returns.
///
/// It may be called more than once (`writ`'s `main` calls it before parsing the command
/// line when the command is likely to need it, and the command calls it again): once the
/// check has passed, later calls return at once.
pub fn ensure() -> Result<(), SealError> {
    use std::sync::atomic::{AtomicBool, Ordering};
    // Whether this process is the re-exec'd one (the variable was set, and is consumed by
    // the first call), and whether its check passed. A re-exec'd process whose check
    // failed fails again on every call: it never re-execs once more (no loop).
    static REEXECUTED: AtomicBool = AtomicBool::new(false);
    static CHECKED: AtomicBool = AtomicBool::new(false);
    if CHECKED.load(Ordering::Relaxed) {
        return Ok(());
    }
    if std::env::var_os(SEALED_ENV).is_some() {
        // Single-threaded: nothing reads the environment concurrently.
        std::env::remove_var(SEALED_ENV);
        REEXECUTED.store(true, Ordering::Relaxed);
    }
    if REEXECUTED.load(Ordering::Relaxed) {
        check_self()?;
        CHECKED.store(true, Ordering::Relaxed);
        return Ok(());
    }
    match read_only_view(Path::new("/proc/self/exe")) {
        Ok(view) => reexec(&view),
        Err(e) => {
            crate::logging::debug(|| {
                format!("exeseal: no read-only bind mount ({e}); sealed memfd copy")
            });
            reexec(&memfd_copy()?)
        }
    }
}

/// Whether /proc/self/exe is such a view; an error says what it is instead.
fn check_self() -> Result<(), SealError> {
    let exe = rustix::fs::open(
        "/proc/self/exe",
        OFlags::RDONLY | OFlags::CLOEXEC,
        Mode::empty(),
    )
    .map_err(io_err("opening /proc/self/exe"))?;
    if is_sealed(exe.as_fd()) {
        Ok(())
    } else {
        let st = rustix::fs::fstatfs(&exe).map_err(io_err("statfs /proc/self/exe"))?;
        Err(SealError::NotSealed(format!(
            "filesystem type {:#x}, mount flags {:#x}",
            st.f_type, st.f_flags
        )))
    }
}

/// Whether `fd` is a write-sealed memfd, or a file on a read-only mount that is in no
/// mount namespace (so that it cannot be made writable: cloning it fails).
pub fn is_sealed(fd: BorrowedFd) -> bool {
    if let Ok(seals) = rustix::fs::fcntl_get_seals(fd) {
        use rustix::fs::SealFlags;
        let need = SealFlags::WRITE | SealFlags::GROW | SealFlags::SHRINK | SealFlags::SEAL;
        return seals.contains(need);
    }
    let read_only =
        rustix::fs::fstatfs(fd).is_ok_and(|st| st.f_flags as u64 & libc::ST_RDONLY != 0);
    read_only && crate::sys::open_tree_clone_fd(fd).err() == Some(crate::sys::Errno::EINVAL)
}

/// An fd (close-on-exec) of `path` seen through a read-only bind mount of it that is
/// attached nowhere: once this fd is closed, the mount is in no namespace.
fn read_only_view(path: &Path) -> Result<OwnedFd, SealError> {
    let target = rustix::fs::open(path, OFlags::PATH | OFlags::CLOEXEC, Mode::empty())
        .map_err(io_err("opening the binary"))?;
    let view = crate::sys::open_tree_clone_fd(target.as_fd()).map_err(|e| SealError::Io {
        what: "open_tree of the binary",
        source: std::io::Error::from_raw_os_error(e as i32),
    })?;
    let attr = crate::sys::MountAttr {
        attr_set: libc::MOUNT_ATTR_RDONLY | libc::MOUNT_ATTR_NOSUID | libc::MOUNT_ATTR_NODEV,
        ..Default::default()
    };
    crate::sys::mount_setattr(view.as_fd(), false, &attr).map_err(|e| SealError::Io {
        what: "making the view read-only",
        source: std::io::Error::from_raw_os_error(e as i32),
    })?;
    Ok(view)
}

/// A sealed memfd holding a copy of the binary.
fn memfd_copy() -> Result<OwnedFd, SealError> {
    use rustix::fs::{MemfdFlags, SealFlags};
    let flags = MemfdFlags::CLOEXEC | MemfdFlags::ALLOW_SEALING;
    // MFD_EXEC (Linux 6.3) keeps it executable where vm.memfd_noexec says otherwise.
    let memfd = rustix::fs::memfd_create("writ", flags | MemfdFlags::EXEC)
        .or_else(|_| rustix::fs::memfd_create("writ", flags))
        .map_err(io_err("memfd_create"))?;
    let mut src = std::fs::File::open("/proc/self/exe").map_err(|source| SealError::Io {
        what: "opening /proc/self/exe",
        source,
    })?;
    let mut dst = std::fs::File::from(memfd);
    std::io::copy(&mut src, &mut dst).map_err(|source| SealError::Io {
        what: "copying the binary",
        source,
    })?;
    let memfd = OwnedFd::from(dst);
    rustix::fs::fcntl_add_seals(
        &memfd,
        SealFlags::WRITE | SealFlags::GROW | SealFlags::SHRINK | SealFlags::SEAL,
    )
    .map_err(io_err("sealing the copy"))?;
    Ok(memfd)
}

/// execveat(view, "", argv, envp + SEALED_ENV, AT_EMPTY_PATH); returns only on failure.
fn reexec(view: &OwnedFd) -> Result<(), SealError> {
    let cstr = |s: OsString| CString::new(s.as_bytes()).ok();
    let argv: Vec<CString> = std::env::args_os().filter_map(cstr).collect();
    let mut envp: Vec<CString> = std::env::vars_os()
        .filter_map(|(k, v)| {
            let mut kv = k;
            kv.push("=");
            kv.push(v);
            cstr(kv)
        })
        .collect();
    envp.push(CString::new(format!("{SEALED_ENV}=1")).unwrap_or_default());
    let ptrs = |v: &[CString]| {
        v.iter()
            .map(|s| s.as_ptr())
            .chain(std::iter::once(std::ptr::null()))
            .collect::<Vec<_>>()
    };
    let (argv_p, envp_p) = (ptrs(&argv), ptrs(&envp));
    // SAFETY: execveat with a live fd, a static empty path and NULL-terminated arrays of
    // pointers into `argv` / `envp`, which outlive the call; on success it does not return.
    unsafe {
        libc::syscall(
            libc::SYS_execveat,
            view.as_raw_fd(),
            c"".as_ptr(),
            argv_p.as_ptr(),
            envp_p.as_ptr(),
            libc::AT_EMPTY_PATH,
        );
    }
    Err(SealError::Io {
        what: "re-executing through the read-only view",
        source: std::io::Error::last_os_error(),
    })
}

/// Reopens an fd through /proc/self/fd with `flags`.
#[cfg(test)]
fn reopen(fd: std::os::fd::RawFd, flags: OFlags) -> rustix::io::Result<OwnedFd> {
    rustix::fs::open(
        format!("/proc/self/fd/{fd}"),
        flags | OFlags::CLOEXEC,
        Mode::empty(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detached_read_only_view_cannot_be_written_or_unwrapped() {
        if !rustix::process::geteuid().is_root() {
            return;
        }
        // A copy nobody runs (a running binary refuses writes with ETXTBSY first).
        let dir = tempfile::tempdir().unwrap();
        let bin = dir.path().join("bin");
        std::fs::write(&bin, b"\x7fELF not really").unwrap();
        let view = read_only_view(&bin).unwrap();
        // What an attacker holds: the file, after the view's own fd is gone.
        let held = reopen(view.as_raw_fd(), OFlags::PATH).unwrap();
        drop(view);
        assert!(is_sealed(
            reopen(held.as_raw_fd(), OFlags::RDONLY).unwrap().as_fd()
        ));
        assert_eq!(
            reopen(held.as_raw_fd(), OFlags::WRONLY).err(),
            Some(rustix::io::Errno::ROFS)
        );
        // The ways to a writable mount of it all fail on a mount in no namespace.
        assert_eq!(
            crate::sys::open_tree_clone_fd(held.as_fd()).err(),
            Some(crate::sys::Errno::EINVAL)
        );
        let rw = crate::sys::MountAttr {
            attr_clr: libc::MOUNT_ATTR_RDONLY,
            ..Default::default()
        };
        assert_eq!(
            crate::sys::mount_setattr(held.as_fd(), false, &rw).err(),
            Some(crate::sys::Errno::EINVAL)
        );
        let p = format!("/proc/self/fd/{}", held.as_raw_fd());
        assert_eq!(
            nix::mount::mount(
                None::<&str>,
                p.as_str(),
                None::<&str>,
                nix::mount::MsFlags::MS_REMOUNT | nix::mount::MsFlags::MS_BIND,
                None::<&str>
            )
            .err(),
            Some(nix::errno::Errno::EINVAL)
        );
        let elsewhere = dir.path().join("elsewhere");
        std::fs::write(&elsewhere, b"").unwrap();
        assert_eq!(
            nix::mount::mount(
                Some(p.as_str()),
                &elsewhere,
                None::<&str>,
                nix::mount::MsFlags::MS_BIND,
                None::<&str>
            )
            .err(),
            Some(nix::errno::Errno::EINVAL)
        );
        assert_eq!(
            reopen(held.as_raw_fd(), OFlags::WRONLY).err(),
            Some(rustix::io::Errno::ROFS)
        );
        assert_eq!(std::fs::read(&bin).unwrap(), b"\x7fELF not really");
    }

    #[test]
    fn memfd_copy_is_sealed_against_writes() {
        let copy = memfd_copy().unwrap();
        assert!(is_sealed(copy.as_fd()));
        assert_eq!(
            rustix::io::write(&copy, b"x").err(),
            Some(rustix::io::Errno::PERM)
        );
        let exe = std::fs::metadata("/proc/self/exe").unwrap().len();
        assert_eq!(rustix::fs::fstat(&copy).unwrap().st_size as u64, exe);
    }

    #[test]
    fn a_plain_binary_is_not_sealed() {
        let exe = rustix::fs::open(
            "/proc/self/exe",
            OFlags::RDONLY | OFlags::CLOEXEC,
            Mode::empty(),
        )
        .unwrap();
        assert!(!is_sealed(exe.as_fd()));
    }
}
