//! Thin wrappers over the raw Linux syscalls the container setup needs and that neither
//! nix nor rustix expose in the form used here (clone3, mount_setattr, close_range, ...),
//! and the one error type of a failed system call, [`SysError`].
//!
//! Every wrapper returns `Result<_, Errno>`; callers add what they were doing with
//! [`Context`], which is also the one conversion from each syscall crate's error (nix,
//! rustix, std::io) to [`SysError`].

use std::ffi::CString;
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};

pub use nix::errno::Errno;

/// The kernel's text for an errno, lower-cased the way runc/crun print it
/// ("no such file or directory"): engines match on this text.
pub fn errno_text(e: Errno) -> String {
    let d = e.desc();
    let mut s = String::with_capacity(d.len());
    let mut chars = d.chars();
    if let Some(c) = chars.next() {
        s.extend(c.to_lowercase());
    }
    s.push_str(chars.as_str());
    s
}

/// Same as [`errno_text`] for an `io::Error`.
pub fn io_text(e: &std::io::Error) -> String {
    match e.raw_os_error() {
        Some(n) => errno_text(Errno::from_raw(n)),
        None => e.to_string(),
    }
}

/// A system call that failed: what was being done, the errno, and maybe a hint of why.
/// Shown as runc shows such errors: `{what}: {errno text}{hint}`, e.g. "mounting proc on
/// /proc: permission denied".
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, serde::Serialize, serde::Deserialize)]
#[error("{what}: {}{hint}", errno_text(Errno::from_raw(*.errno)))]
pub struct SysError {
    /// What was being done.
    pub what: String,
    /// The raw errno.
    pub errno: i32,
    /// Appended after the errno text (empty, or starting with a space).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub hint: String,
}

impl SysError {
    /// `errno` (of any syscall crate) while doing `what`.
    pub fn new(what: impl Into<String>, errno: impl AsErrno) -> SysError {
        SysError {
            what: what.into(),
            errno: errno.as_errno() as i32,
            hint: String::new(),
        }
    }

    /// The errno.
    pub fn errno(&self) -> Errno {
        Errno::from_raw(self.errno)
    }

    /// The same error with a hint of why it happened.
    pub fn hint(mut self, hint: impl Into<String>) -> SysError {
        self.hint = hint.into();
        self
    }
}

/// The errno of an error of one of the syscall crates (EIO for an `io::Error` that has
/// none).
pub trait AsErrno {
    /// The errno.
    fn as_errno(&self) -> Errno;
}

impl AsErrno for Errno {
    fn as_errno(&self) -> Errno {
        *self
    }
}

impl AsErrno for rustix::io::Errno {
    fn as_errno(&self) -> Errno {
        Errno::from_raw(self.raw_os_error())
    }
}

impl AsErrno for std::io::Error {
    fn as_errno(&self) -> Errno {
        Errno::from_raw(self.raw_os_error().unwrap_or(libc::EIO))
    }
}

/// What was being done when a system call failed: turns the error of any syscall crate
/// into a [`SysError`].
pub trait Context<T> {
    /// The error as a [`SysError`] of doing `what`.
    fn ctx(self, what: &str) -> Result<T, SysError>;
    /// Same as [`ctx`](Context::ctx), with the description made only on failure.
    fn with_ctx(self, what: impl FnOnce() -> String) -> Result<T, SysError>;
}

impl<T, E: AsErrno> Context<T> for Result<T, E> {
    fn ctx(self, what: &str) -> Result<T, SysError> {
        self.map_err(|e| SysError::new(what, e))
    }

    fn with_ctx(self, what: impl FnOnce() -> String) -> Result<T, SysError> {
        self.map_err(|e| SysError::new(what(), e))
    }
}

fn check(r: libc::c_long) -> Result<libc::c_long, Errno> {
    if r < 0 {
        Err(Errno::last())
    } else {
        Ok(r)
    }
}

/// `struct clone_args` of clone3(2) (the size-64 version is enough).
#[repr(C)]
#[derive(Default)]
struct CloneArgs {
    flags: u64,
    pidfd: u64,
    child_tid: u64,
    parent_tid: u64,
    exit_signal: u64,
    stack: u64,
    stack_size: u64,
    tls: u64,
    set_tid: u64,
    set_tid_size: u64,
    cgroup: u64,
}

/// clone3's flag: the child starts in the cgroup2 directory `CloneArgs::cgroup`.
const CLONE_INTO_CGROUP: u64 = 0x200000000;

/// Result of [`fork_with_flags`].
pub enum Forked {
    Child,
    Parent(i32),
}

/// fork(2) with namespace flags: clone3 without CLONE_VM, so the child runs on a copy of
/// the address space exactly like fork. The caller must be single-threaded.
pub fn fork_with_flags(flags: u64) -> Result<Forked, Errno> {
    fork_into(flags, None)
}

/// [`fork_with_flags`], the child born in the cgroup2 directory `cgroup` when given
/// (CLONE_INTO_CGROUP: no migration afterwards).
pub fn fork_into(flags: u64, cgroup: Option<BorrowedFd>) -> Result<Forked, Errno> {
    let (flags, cgroup) = match cgroup {
        Some(fd) => (flags | CLONE_INTO_CGROUP, fd.as_raw_fd() as u64),
        None => (flags, 0),
    };
    // CLONE_PARENT takes the exit signal of the caller's parent relation; clone3 wants 0.
    let exit_signal = if flags & libc::CLONE_PARENT as u64 != 0 {
        0
    } else {
        libc::SIGCHLD as u64
    };
    let mut args = CloneArgs {
        flags,
        exit_signal,
        cgroup,
        ..Default::default()
    };
    // SAFETY: clone3 without CLONE_VM/CLONE_THREAD duplicates the (single-threaded) process
    // like fork(2); the args struct lives for the duration of the call.
    let r = unsafe {
        libc::syscall(
            libc::SYS_clone3,
            &mut args as *mut CloneArgs,
            std::mem::size_of::<CloneArgs>(),
        )
    };
    match check(r)? {
        0 => Ok(Forked::Child),
        pid => Ok(Forked::Parent(pid as i32)),
    }
}

/// `struct mount_attr` of mount_setattr(2).
#[repr(C)]
#[derive(Default, Debug, Clone, Copy, PartialEq, Eq)]
pub struct MountAttr {
    pub attr_set: u64,
    pub attr_clr: u64,
    pub propagation: u64,
    pub userns_fd: u64,
}

/// mount_setattr(fd, "", AT_EMPTY_PATH [| AT_RECURSIVE], attr).
pub fn mount_setattr(fd: BorrowedFd, recursive: bool, attr: &MountAttr) -> Result<(), Errno> {
    let mut flags = libc::AT_EMPTY_PATH as libc::c_uint;
    if recursive {
        flags |= libc::AT_RECURSIVE as libc::c_uint;
    }
    // SAFETY: plain syscall; the path is a static empty C string and attr outlives the call.
    let r = unsafe {
        libc::syscall(
            libc::SYS_mount_setattr,
            fd.as_raw_fd(),
            c"".as_ptr(),
            flags,
            attr as *const MountAttr,
            std::mem::size_of::<MountAttr>(),
        )
    };
    check(r).map(|_| ())
}

/// open_tree(dirfd, path, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC [| AT_RECURSIVE]): a detached
/// copy of the mount at `path`.
pub fn open_tree_clone(path: &str, recursive: bool) -> Result<OwnedFd, Errno> {
    let c = CString::new(path).map_err(|_| Errno::EINVAL)?;
    let mut flags = (libc::OPEN_TREE_CLONE | libc::OPEN_TREE_CLOEXEC) as libc::c_uint;
    if recursive {
        flags |= libc::AT_RECURSIVE as libc::c_uint;
    }
    // SAFETY: plain syscall with a valid NUL-terminated path.
    let r = unsafe { libc::syscall(libc::SYS_open_tree, libc::AT_FDCWD, c.as_ptr(), flags) };
    let fd = check(r)? as RawFd;
    // SAFETY: the kernel returned a fresh fd that nothing else owns.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// move_mount(from, "", to, "", F_EMPTY_PATH | T_EMPTY_PATH): attach a detached tree onto the
/// object `to` refers to.
pub fn move_mount_fd(from: BorrowedFd, to: BorrowedFd) -> Result<(), Errno> {
    const MOVE_MOUNT_F_EMPTY_PATH: libc::c_uint = 0x4;
    const MOVE_MOUNT_T_EMPTY_PATH: libc::c_uint = 0x40;
    // SAFETY: plain syscall with static empty paths.
    let r = unsafe {
        libc::syscall(
            libc::SYS_move_mount,
            from.as_raw_fd(),
            c"".as_ptr(),
            to.as_raw_fd(),
            c"".as_ptr(),
            MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH,
        )
    };
    check(r).map(|_| ())
}

/// Closes every fd except those in `keep` and the range `keep_from .. keep_from + keep_len`
/// (close_range over the gaps), so a forked child holds nothing it was not handed.
/// Allocation-free (it runs right after a fork).
pub fn close_fds_except(keep: &[RawFd], keep_from: u32, keep_len: u32) -> Result<(), Errno> {
    let range_end = keep_from.saturating_add(keep_len);
    let in_range = |fd: u32| fd >= keep_from && fd < range_end;
    let mut next = 0u32;
    loop {
        // The lowest kept fd at or above `next`.
        let mut lo = if next < range_end {
            keep_from.max(next)
        } else {
            u32::MAX
        };
        for k in keep.iter().filter_map(|&k| u32::try_from(k).ok()) {
            if k >= next && k < lo {
                lo = k;
            }
        }
        if lo == u32::MAX {
            return close_range(next, u32::MAX);
        }
        if lo > next {
            close_range(next, lo - 1)?;
        }
        next = if in_range(lo) { range_end } else { lo + 1 };
    }
}

fn close_range(first: u32, last: u32) -> Result<(), Errno> {
    // SAFETY: plain syscall; the caller owns the fd table of this (single-threaded) process
    // and keeps what it still uses.
    let r = unsafe { libc::syscall(libc::SYS_close_range, first, last, 0u32) };
    check(r).map(|_| ())
}

/// getcwd(2) as the kernel reports it: a cwd outside the process's root comes back
/// prefixed with "(unreachable)" (libc wrappers hide that as ENOENT).
pub fn raw_getcwd() -> Result<Vec<u8>, Errno> {
    let mut buf = vec![0u8; libc::PATH_MAX as usize + 16];
    // SAFETY: the kernel writes at most buf.len() bytes into our buffer.
    let r = unsafe { libc::syscall(libc::SYS_getcwd, buf.as_mut_ptr(), buf.len()) };
    let n = check(r)? as usize;
    buf.truncate(n.saturating_sub(1));
    Ok(buf)
}

/// open_tree(fd, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH): a detached bind
/// mount of the object `fd` refers to, with no path lookup.
pub fn open_tree_clone_fd(fd: BorrowedFd) -> Result<OwnedFd, Errno> {
    open_tree_fd(fd, 0)
}

/// open_tree_clone_fd of the mount with every mount below it (AT_RECURSIVE).
pub fn open_tree_clone_fd_recursive(fd: BorrowedFd) -> Result<OwnedFd, Errno> {
    open_tree_fd(fd, libc::AT_RECURSIVE as libc::c_uint)
}

fn open_tree_fd(fd: BorrowedFd, extra: libc::c_uint) -> Result<OwnedFd, Errno> {
    let flags = (libc::OPEN_TREE_CLONE | libc::OPEN_TREE_CLOEXEC | libc::AT_EMPTY_PATH as u32)
        as libc::c_uint
        | extra;
    // SAFETY: plain syscall with a static empty path.
    let r = unsafe { libc::syscall(libc::SYS_open_tree, fd.as_raw_fd(), c"".as_ptr(), flags) };
    let fd = check(r)? as RawFd;
    // SAFETY: the kernel returned a fresh fd that nothing else owns.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// close_range(first, ~0, CLOSE_RANGE_CLOEXEC): every fd from `first` on is closed at exec.
pub fn cloexec_from(first: u32) -> Result<(), Errno> {
    const CLOSE_RANGE_CLOEXEC: libc::c_uint = 1 << 2;
    // SAFETY: plain syscall; it only changes fd flags.
    let r = unsafe { libc::syscall(libc::SYS_close_range, first, u32::MAX, CLOSE_RANGE_CLOEXEC) };
    check(r).map(|_| ())
}

/// ioprio_set(IOPRIO_WHO_PROCESS, 0, class << 13 | level).
pub fn ioprio_set(class: u32, level: u32) -> Result<(), Errno> {
    const IOPRIO_WHO_PROCESS: libc::c_int = 1;
    let prio = ((class & 0x7) << 13) | (level & 0x1fff);
    // SAFETY: plain syscall on the calling process.
    let r = unsafe { libc::syscall(libc::SYS_ioprio_set, IOPRIO_WHO_PROCESS, 0, prio) };
    check(r).map(|_| ())
}

/// `struct sched_attr` of sched_setattr(2).
#[repr(C)]
#[derive(Default, Debug, Clone, Copy)]
pub struct SchedAttr {
    pub size: u32,
    pub sched_policy: u32,
    pub sched_flags: u64,
    pub sched_nice: i32,
    pub sched_priority: u32,
    pub sched_runtime: u64,
    pub sched_deadline: u64,
    pub sched_period: u64,
}

/// sched_setattr(0, attr, 0).
pub fn sched_setattr(attr: &SchedAttr) -> Result<(), Errno> {
    let mut a = *attr;
    a.size = std::mem::size_of::<SchedAttr>() as u32;
    // SAFETY: plain syscall on the calling thread; attr outlives the call.
    let r = unsafe { libc::syscall(libc::SYS_sched_setattr, 0, &a as *const SchedAttr, 0) };
    check(r).map(|_| ())
}

#[repr(C)]
struct CapHeader {
    version: u32,
    pid: i32,
}

#[repr(C)]
#[derive(Clone, Copy, Default)]
struct CapData {
    effective: u32,
    permitted: u32,
    inheritable: u32,
}

const CAP_VERSION_3: u32 = 0x2008_0522;

/// capset(2) for the calling thread with 64-bit masks (version 3).
pub fn capset(effective: u64, permitted: u64, inheritable: u64) -> Result<(), Errno> {
    let hdr = CapHeader {
        version: CAP_VERSION_3,
        pid: 0,
    };
    let data = [
        CapData {
            effective: effective as u32,
            permitted: permitted as u32,
            inheritable: inheritable as u32,
        },
        CapData {
            effective: (effective >> 32) as u32,
            permitted: (permitted >> 32) as u32,
            inheritable: (inheritable >> 32) as u32,
        },
    ];
    // SAFETY: plain syscall; header and the two data elements outlive the call.
    let r = unsafe { libc::syscall(libc::SYS_capset, &hdr as *const CapHeader, data.as_ptr()) };
    check(r).map(|_| ())
}

/// capget(2) of the calling thread: (effective, permitted, inheritable) as 64-bit masks.
pub fn capget() -> Result<(u64, u64, u64), Errno> {
    let mut hdr = CapHeader {
        version: CAP_VERSION_3,
        pid: 0,
    };
    let mut data = [CapData::default(); 2];
    // SAFETY: plain syscall; the kernel writes two data elements into our array.
    let r = unsafe {
        libc::syscall(
            libc::SYS_capget,
            &mut hdr as *mut CapHeader,
            data.as_mut_ptr(),
        )
    };
    check(r)?;
    let join = |lo: u32, hi: u32| u64::from(lo) | (u64::from(hi) << 32);
    Ok((
        join(data[0].effective, data[1].effective),
        join(data[0].permitted, data[1].permitted),
        join(data[0].inheritable, data[1].inheritable),
    ))
}

/// prctl with integer arguments.
pub fn prctl(option: libc::c_int, a2: u64, a3: u64) -> Result<(), Errno> {
    // SAFETY: the options used here take integer arguments only.
    let r = unsafe { libc::prctl(option, a2, a3, 0u64, 0u64) };
    if r < 0 {
        Err(Errno::last())
    } else {
        Ok(())
    }
}

/// Whether capability `cap` is in the calling thread's bounding set (PR_CAPBSET_READ).
pub fn in_bounding_set(cap: u32) -> bool {
    // SAFETY: PR_CAPBSET_READ takes an integer and returns 1, 0 or -1.
    unsafe { libc::prctl(libc::PR_CAPBSET_READ, u64::from(cap), 0u64, 0u64, 0u64) == 1 }
}

/// The highest capability number the running kernel knows.
pub fn cap_last_cap() -> u32 {
    read_small("/proc/sys/kernel/cap_last_cap", 16)
        .ok()
        .and_then(|b| std::str::from_utf8(&b).ok()?.trim().parse().ok())
        .unwrap_or(40)
}

/// The whole content of a file of /proc or /sys (which report a size of 0), read into
/// one buffer of `size_hint` bytes, doubled only when the file fills it: an open (the raw
/// call, no fcntl after it), reads until end of file (two for a file that fits), a close.
/// `std::fs::read` would fstat first and, trusting the size 0, read in pieces that start
/// at 32 bytes.
pub fn read_small(path: &str, size_hint: usize) -> std::io::Result<Vec<u8>> {
    use rustix::fs::{Mode, OFlags};
    let fd = rustix::fs::open(path, OFlags::RDONLY | OFlags::CLOEXEC, Mode::empty())?;
    let mut buf = Vec::with_capacity(size_hint.max(16));
    loop {
        if buf.len() == buf.capacity() {
            buf.reserve(buf.capacity());
        }
        match rustix::io::read(&fd, rustix::buffer::spare_capacity(&mut buf)) {
            Ok(0) => return Ok(buf),
            Ok(_) | Err(rustix::io::Errno::INTR) => {}
            Err(e) => return Err(e.into()),
        }
    }
}

/// `/proc/self/fd/N` for a fd: the kernel resolves it to the object itself.
pub fn fd_path(fd: BorrowedFd) -> String {
    format!("/proc/self/fd/{}", fd.as_raw_fd())
}

/// Writes `data` to an existing file (no create, no truncate), as /proc and cgroupfs need.
pub fn write_file(path: &std::path::Path, data: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    std::fs::File::from(open_write(path, false)?).write_all(data)
}

/// Opens an existing file for writing, close-on-exec, truncated if `truncate`: one system
/// call (`std::fs::OpenOptions` on musl adds an fcntl for the close-on-exec flag).
pub fn open_write(path: &std::path::Path, truncate: bool) -> std::io::Result<OwnedFd> {
    use rustix::fs::{Mode, OFlags};
    let mut flags = OFlags::WRONLY | OFlags::CLOEXEC;
    if truncate {
        flags |= OFlags::TRUNC;
    }
    Ok(rustix::fs::open(path, flags, Mode::empty())?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn is_open(fd: RawFd) -> bool {
        // SAFETY: F_GETFD only queries the descriptor table.
        unsafe { libc::fcntl(fd, libc::F_GETFD) >= 0 }
    }

    #[test]
    fn close_fds_except_keeps_exactly_what_it_is_told() {
        // Done in a forked child: this test process's other threads own fds too. The fds
        // sit at fixed high numbers nobody else uses.
        let null = rustix::fs::open(
            "/dev/null",
            rustix::fs::OFlags::RDONLY | rustix::fs::OFlags::CLOEXEC,
            rustix::fs::Mode::empty(),
        )
        .unwrap();
        let raw: Vec<RawFd> = (900..908).collect();
        for &fd in &raw {
            assert_eq!(
                // SAFETY: dup3 onto a number this test owns.
                unsafe { libc::dup3(null.as_raw_fd(), fd, libc::O_CLOEXEC) },
                fd
            );
        }
        // Keep 901 and 905 by number, 903..=904 as the range.
        let keep = [0, 1, 2, raw[1], raw[5]];
        let (from, len) = (raw[3] as u32, 2);
        // SAFETY: the child only makes raw syscalls (no allocation) and ends in _exit.
        match unsafe { libc::fork() } {
            0 => {
                let ok = close_fds_except(&keep, from, len).is_ok()
                    && [0, 1, 2, raw[1], raw[3], raw[4], raw[5]]
                        .iter()
                        .all(|&f| is_open(f))
                    && [raw[0], raw[2], raw[6], raw[7]]
                        .iter()
                        .all(|&f| !is_open(f));
                // SAFETY: _exit in the forked child.
                unsafe { libc::_exit(if ok { 0 } else { 1 }) }
            }
            pid => {
                let mut status = 0;
                // SAFETY: waiting for our own child.
                assert_eq!(unsafe { libc::waitpid(pid, &mut status, 0) }, pid);
                assert!(libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0);
            }
        }
        assert!(raw.iter().all(|&f| is_open(f)), "the parent keeps its fds");
        for fd in raw {
            // SAFETY: closing the numbers this test dup'd onto.
            unsafe { libc::close(fd) };
        }
    }
}
