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
//! # The choice: run `create` from a read-only overlayfs view of the binary
//! `create` and `run` (the commands that fork a container's init) re-exec themselves once,
//! first thing, through a view of the binary that cannot be written, so every init they
//! fork has that view as its exe:
//!
//! 1. overlayfs, as runc 1.2 does: a private overlay (fsopen, never attached to any mount
//!    namespace, so no mount event and nothing in mountinfo) whose two lower layers are
//!    the binary's directory and an empty directory (made in the state root and removed
//!    at once: the layer is held by fd), with no upper layer, mounted read-only. A lower-only overlay refuses every write at the superblock (EROFS), so
//!    re-opening the link for writing fails. A plain read-only bind mount can be
//!    "unwrapped" (clone the mount with `open_tree`, clear the flag on the clone); this
//!    mount is detached as soon as create holds the file (cloning it fails), and a clone
//!    would still have the read-only superblock. It costs no copy and no memory: about
//!    0.2 ms plus one exec. The layers are given as fds (`lowerdir+`, Linux 6.8+).
//!    Releasing the overlay's mount fd costs an RCU grace period (milliseconds on a busy
//!    host), so it is not closed on the way: it crosses the exec and is handed to the
//!    container's init, which closes it once create has dropped its copy (`take_mount`),
//!    while create moves the init into its cgroup.
//! 2. Otherwise (an older kernel, no overlayfs, not privileged to mount): a sealed memfd
//!    copy (F_SEAL_WRITE | SHRINK | GROW | SEAL), as runc does for rootless containers;
//!    it costs a copy of the binary per create.
//!
//! Rejected: an unconditional memfd copy (youki; a copy of a multi-megabyte binary on
//! every call, 2.5× crun's start cost), a read-only bind mount (can be unwrapped by anyone
//! with CAP_SYS_ADMIN in its mount namespace, and mounts in the host namespace made runc
//! slow on busy hosts), relying on ETXTBSY (gone once the last writ process exits) or on
//! non-dumpability alone (not against CAP_SYS_PTRACE).
//!
//! The re-exec is guarded by an environment variable; the re-exec'd process checks that
//! its exe really is such a view and fails otherwise (it never loops). `start`, `state`,
//! `kill` and `delete` fork no init and are not re-exec'd. What remains: the shared
//! libraries writ maps are host files, reachable through `/proc/<pid>/map_files` only
//! with CAP_SYS_ADMIN (or CAP_CHECKPOINT_RESTORE) in the host's user namespace and
//! ptrace access; a container with those can reach the host without writ anyway.

use std::ffi::{CString, OsString};
use std::os::fd::{AsFd, AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use std::sync::atomic::{AtomicI32, Ordering};

use rustix::fs::{Mode, OFlags};
use rustix::mount::{FsMountFlags, FsOpenFlags, MountAttrFlags};
use std::os::unix::fs::DirBuilderExt;

/// Set in the environment of the re-exec'd process (and removed from it there): `memfd`,
/// or `overlay:<fd>` with the number of the overlay's mount fd it inherits.
const SEALED_ENV: &str = "_WRIT_EXESEAL";
const OVERLAYFS_SUPER_MAGIC: i64 = 0x794c_7630;

/// The overlay's mount fd inherited across the re-exec, until [`take_mount`].
static MOUNT_FD: AtomicI32 = AtomicI32::new(-1);

/// Why the binary could not be protected.
#[derive(Debug, thiserror::Error)]
pub enum SealError {
    #[error("protecting the writ binary (CVE-2019-5736): {what}: {source}")]
    Io {
        what: &'static str,
        source: std::io::Error,
    },
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
/// does (after checking), else re-execs itself through one and never returns. `root` is
/// the state root (where the empty layer is made and removed).
pub fn ensure(root: &Path) -> Result<(), SealError> {
    if let Some(v) = std::env::var_os(SEALED_ENV) {
        // Single-threaded: nothing reads the environment concurrently.
        std::env::remove_var(SEALED_ENV);
        check_self()?;
        if let Some(fd) = v.to_str().and_then(|v| v.strip_prefix("overlay:")) {
            if let Ok(fd) = fd.parse::<RawFd>() {
                adopt_mount(fd);
            }
        }
        return Ok(());
    }
    match overlay_view(root) {
        Ok((view, mnt)) => {
            // The mount fd crosses the exec (see the module doc), never as stdio (a caller
            // may have left 0-2 closed; create fills them with /dev/null later).
            let mnt = if mnt.as_raw_fd() < 3 {
                rustix::io::fcntl_dupfd_cloexec(&mnt, 3)
                    .map_err(io_err("moving the overlay's mount fd"))?
            } else {
                mnt
            };
            rustix::io::fcntl_setfd(&mnt, rustix::io::FdFlags::empty())
                .map_err(io_err("keeping the overlay's mount fd"))?;
            let tag = format!("overlay:{}", mnt.as_raw_fd());
            reexec(&view, &tag)
        }
        Err(e) => {
            crate::logging::debug(|| {
                format!("exeseal: no overlayfs view ({e}); sealed memfd copy")
            });
            reexec(&memfd_copy()?, "memfd")
        }
    }
}

/// Takes over the inherited overlay mount fd `fd` if it is one (an overlay's root).
fn adopt_mount(fd: RawFd) {
    if fd < 3 {
        return;
    }
    // SAFETY: F_SETFD on a number that may or may not be open; nothing is dereferenced.
    let open = unsafe { libc::fcntl(fd, libc::F_SETFD, libc::FD_CLOEXEC) } == 0;
    if !open {
        return;
    }
    // SAFETY: the fd is open; it is borrowed only for the duration of the check.
    let borrowed = unsafe { std::os::fd::BorrowedFd::borrow_raw(fd) };
    let is_overlay_root = rustix::fs::fstatfs(borrowed)
        .is_ok_and(|st| st.f_type == OVERLAYFS_SUPER_MAGIC)
        && rustix::fs::fstat(borrowed).is_ok_and(|st| {
            rustix::fs::FileType::from_raw_mode(st.st_mode) == rustix::fs::FileType::Directory
        });
    if is_overlay_root {
        MOUNT_FD.store(fd, Ordering::Relaxed);
    }
}

/// The overlay's mount fd this process inherited, if any: whoever takes it closes it
/// (create hands it to the container's init, see the module doc).
pub fn take_mount() -> Option<OwnedFd> {
    let fd = MOUNT_FD.swap(-1, Ordering::Relaxed);
    // SAFETY: `adopt_mount` checked the fd, which this process received across its own
    // re-exec and which nothing else owns; the swap hands it out once.
    (fd >= 0).then(|| unsafe { OwnedFd::from_raw_fd(fd) })
}

/// The kind of view /proc/self/exe is, or why it is not one.
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
            "filesystem type {:#x}, flags {:#x}",
            st.f_type, st.f_flags
        )))
    }
}

/// Whether `fd` is a read-only overlayfs file or a write-sealed memfd.
pub fn is_sealed(fd: std::os::fd::BorrowedFd) -> bool {
    if let Ok(seals) = rustix::fs::fcntl_get_seals(fd) {
        use rustix::fs::SealFlags;
        let need = SealFlags::WRITE | SealFlags::GROW | SealFlags::SHRINK | SealFlags::SEAL;
        return seals.contains(need);
    }
    rustix::fs::fstatfs(fd).is_ok_and(|st| {
        st.f_type == OVERLAYFS_SUPER_MAGIC && st.f_flags as u64 & libc::ST_RDONLY != 0
    })
}

/// An O_PATH fd of the binary seen through a private, read-only, lower-only overlayfs, and
/// the overlay's mount fd.
fn overlay_view(root: &Path) -> Result<(OwnedFd, OwnedFd), SealError> {
    let path = std::fs::read_link("/proc/self/exe").map_err(|source| SealError::Io {
        what: "reading /proc/self/exe",
        source,
    })?;
    let (Some(dir), Some(name)) = (path.parent(), path.file_name()) else {
        return Err(SealError::NotSealed(format!(
            "{} has no directory",
            path.display()
        )));
    };
    let dirfd = rustix::fs::open(
        dir,
        OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
        Mode::empty(),
    )
    .map_err(io_err("opening the binary's directory"))?;
    let empty = empty_dir(root)?;
    let ctx = rustix::mount::fsopen("overlay", FsOpenFlags::FSOPEN_CLOEXEC)
        .map_err(io_err("fsopen overlay"))?;
    // The binary's directory on top, so that nothing in the empty layer can shadow it.
    rustix::mount::fsconfig_set_fd(&ctx, "lowerdir+", &dirfd)
        .map_err(io_err("overlay lowerdir+ (the binary's directory)"))?;
    rustix::mount::fsconfig_set_fd(&ctx, "lowerdir+", &empty)
        .map_err(io_err("overlay lowerdir+ (an empty directory)"))?;
    // xino only matters for inode numbers; off keeps the kernel log quiet.
    let _ = rustix::mount::fsconfig_set_string(&ctx, "xino", "off");
    rustix::mount::fsconfig_create(&ctx).map_err(io_err("creating the overlay"))?;
    let mnt = rustix::mount::fsmount(
        &ctx,
        FsMountFlags::FSMOUNT_CLOEXEC,
        MountAttrFlags::MOUNT_ATTR_RDONLY
            | MountAttrFlags::MOUNT_ATTR_NODEV
            | MountAttrFlags::MOUNT_ATTR_NOSUID,
    )
    .map_err(io_err("fsmount overlay"))?;
    let view = rustix::fs::openat(
        &mnt,
        name,
        OFlags::PATH | OFlags::NOFOLLOW | OFlags::CLOEXEC,
        Mode::empty(),
    )
    .map_err(io_err("opening the binary in the overlay"))?;
    // Still the binary we run (not replaced in between): same size and modification time.
    let (a, b) = (
        rustix::fs::fstat(&view).map_err(io_err("stat of the overlay view"))?,
        rustix::fs::stat("/proc/self/exe").map_err(io_err("stat /proc/self/exe"))?,
    );
    if (a.st_size, a.st_mtime, a.st_mtime_nsec) != (b.st_size, b.st_mtime, b.st_mtime_nsec) {
        return Err(SealError::NotSealed(format!(
            "{} changed while it was being sealed",
            path.display()
        )));
    }
    Ok((view, mnt))
}

/// An fd of an empty directory that no path leads to any more: made in the state root
/// (under a name that is no container id) and removed at once.
fn empty_dir(root: &Path) -> Result<OwnedFd, SealError> {
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o711)
        .create(root)
        .map_err(|source| SealError::Io {
            what: "creating the state root",
            source,
        })?;
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    let dir = root.join(format!("~exeseal-{}-{nanos}", std::process::id()));
    rustix::fs::mkdir(&dir, Mode::from_raw_mode(0o700))
        .map_err(io_err("making an empty directory"))?;
    let fd = rustix::fs::open(
        &dir,
        OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
        Mode::empty(),
    );
    let removed = rustix::fs::rmdir(&dir);
    let fd = fd.map_err(io_err("opening the empty directory"))?;
    removed.map_err(io_err("removing the empty directory"))?;
    Ok(fd)
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

/// execveat(view, "", argv, envp + SEALED_ENV=tag, AT_EMPTY_PATH); returns only on failure.
fn reexec(view: &OwnedFd, tag: &str) -> Result<(), SealError> {
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
    envp.push(CString::new(format!("{SEALED_ENV}={tag}")).unwrap_or_default());
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
        what: "re-executing through the sealed view",
        source: std::io::Error::last_os_error(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overlay_view_is_read_only_and_cannot_be_unwrapped() {
        if !rustix::process::geteuid().is_root() {
            return;
        }
        let root = tempfile::tempdir().unwrap();
        let (view, mnt) = overlay_view(root.path()).expect("an overlayfs view of the test binary");
        assert_eq!(
            std::fs::read_dir(root.path()).unwrap().count(),
            0,
            "no empty layer left"
        );
        drop(mnt);
        assert!(is_sealed(
            rustix::fs::open(
                format!("/proc/self/fd/{}", view.as_raw_fd()),
                OFlags::RDONLY | OFlags::CLOEXEC,
                Mode::empty()
            )
            .unwrap()
            .as_fd()
        ));
        let reopen = |fd: &OwnedFd| {
            rustix::fs::open(
                format!("/proc/self/fd/{}", fd.as_raw_fd()),
                OFlags::WRONLY | OFlags::CLOEXEC,
                Mode::empty(),
            )
        };
        assert_eq!(reopen(&view).err(), Some(rustix::io::Errno::ROFS));
        // Its mount is detached: it cannot be cloned (to clear the read-only flag on the
        // clone, which is how a read-only bind mount is unwrapped); were it cloned, the
        // superblock would still refuse writes.
        match crate::sys::open_tree_clone_fd(view.as_fd()) {
            Err(e) => assert_eq!(e, crate::sys::Errno::EINVAL),
            Ok(clone) => {
                let attr = crate::sys::MountAttr {
                    attr_clr: crate::sys::MOUNT_ATTR_RDONLY,
                    ..Default::default()
                };
                let _ = crate::sys::mount_setattr(clone.as_fd(), false, &attr);
                assert_eq!(reopen(&clone).err(), Some(rustix::io::Errno::ROFS));
            }
        }
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
    fn the_test_binary_itself_is_not_sealed() {
        let exe = rustix::fs::open(
            "/proc/self/exe",
            OFlags::RDONLY | OFlags::CLOEXEC,
            Mode::empty(),
        )
        .unwrap();
        assert!(!is_sealed(exe.as_fd()));
    }
}
