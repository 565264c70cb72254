//! File operations on cgroup directories, with errors that name the file.

use std::io::Write as _;
use std::path::Path;

use super::CgroupError;

/// Writes `value` to `dir/file` for the config field `field` of `controller` (the file
/// must exist: a cgroup file is never created; its absence means the host's kernel does
/// not offer it, which is the error).
pub(super) fn write(
    controller: &'static str,
    field: &str,
    dir: &Path,
    file: &str,
    value: &str,
) -> Result<(), CgroupError> {
    CgroupFile::new(controller, field, dir, file).write(value)
}

/// A cgroup file opened once, at its first write, for several writes (the v1
/// `devices.allow` lines: the kernel takes each write(2) as one record, so one open serves
/// every rule instead of one open and path walk each).
pub(super) struct CgroupFile<'a> {
    controller: &'static str,
    field: &'a str,
    dir: &'a Path,
    name: &'a str,
    file: Option<std::fs::File>,
}

impl<'a> CgroupFile<'a> {
    /// `dir/file`, for the config field `field` of `controller`; nothing is opened yet.
    pub(super) fn new(
        controller: &'static str,
        field: &'a str,
        dir: &'a Path,
        name: &'a str,
    ) -> CgroupFile<'a> {
        CgroupFile {
            controller,
            field,
            dir,
            name,
            file: None,
        }
    }

    /// Writes `value` in one write(2), opening the file first if it is not open yet.
    /// Errors as [`write`]'s: a missing file is [`CgroupError::NoFile`].
    pub(super) fn write(&mut self, value: &str) -> Result<(), CgroupError> {
        let written = match &mut self.file {
            Some(f) => f.write_all(value.as_bytes()),
            None => crate::sys::open_write(&self.dir.join(self.name), true)
                .map(std::fs::File::from)
                .and_then(|mut f| {
                    f.write_all(value.as_bytes())?;
                    self.file = Some(f);
                    Ok(())
                }),
        };
        written.map_err(|source| {
            let file = self.dir.join(self.name);
            if source.kind() == std::io::ErrorKind::NotFound && self.dir.is_dir() {
                CgroupError::NoFile {
                    field: self.field.to_string(),
                    controller: self.controller,
                    file,
                }
            } else {
                CgroupError::Write {
                    field: self.field.to_string(),
                    controller: self.controller,
                    file,
                    value: value.to_string(),
                    source,
                }
            }
        })
    }
}

/// Whether `dir/file` exists (a file some kernels offer and others not).
pub(super) fn has(dir: &Path, file: &str) -> bool {
    dir.join(file).exists()
}

/// The text of `dir/file`.
pub(super) fn read(dir: &Path, file: &str) -> Result<String, CgroupError> {
    use std::io::Read as _;
    let path = dir.join(file);
    let mut text = String::new();
    // Through `take`: a cgroup file has no size to ask for first (`fs::read_to_string`
    // would, with one more system call).
    std::fs::File::open(&path)
        .and_then(|f| f.take(u64::MAX).read_to_string(&mut text))
        .map(|_| text)
        .map_err(|source| CgroupError::Read { file: path, source })
}

/// The text of `dir/file` (`dir` relative to the directory `at`, or absolute), a cgroup
/// file of one short record (`freezer.state`, `cgroup.freeze`, `cgroup.events`), which the
/// kernel shows whole to one read: what one read of up to 256 bytes gives (a system call
/// less than [`read`]).
pub(super) fn read_record(
    at: std::os::fd::BorrowedFd<'_>,
    dir: &Path,
    file: &str,
) -> Result<String, CgroupError> {
    use std::io::Read as _;
    let path = dir.join(file);
    let mut buf = [0u8; 256];
    let flags = rustix::fs::OFlags::RDONLY | rustix::fs::OFlags::CLOEXEC;
    let text = rustix::fs::openat(at, &path, flags, rustix::fs::Mode::empty())
        .map_err(std::io::Error::from)
        .and_then(|fd| std::fs::File::from(fd).read(&mut buf))
        .and_then(|n| {
            std::str::from_utf8(&buf[..n])
                .map(str::to_string)
                .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e))
        });
    text.map_err(|source| CgroupError::Read { file: path, source })
}

/// Makes `dir` and every missing parent down from `mount`; `made(parent, dir)` runs for
/// each directory this call made.
pub(super) fn mkdir_all(
    mount: &Path,
    dir: &Path,
    mut made: impl FnMut(&Path, &Path) -> Result<(), CgroupError>,
) -> Result<(), CgroupError> {
    let rel = dir.strip_prefix(mount).unwrap_or(dir);
    let mut cur = mount.to_path_buf();
    for comp in rel.components() {
        let parent = cur.clone();
        cur.push(comp);
        match std::fs::create_dir(&cur) {
            Ok(()) => made(&parent, &cur)?,
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(source) => return Err(CgroupError::Mkdir { dir: cur, source }),
        }
    }
    Ok(())
}

/// Every pid in `dir/cgroup.procs` and in its descendants'.
pub(super) fn collect_pids(dir: &Path, out: &mut Vec<i32>) -> Result<(), CgroupError> {
    match std::fs::read_to_string(dir.join("cgroup.procs")) {
        Ok(t) => out.extend(t.lines().filter_map(|l| l.trim().parse::<i32>().ok())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(source) => {
            return Err(CgroupError::Read {
                file: dir.join("cgroup.procs"),
                source,
            })
        }
    }
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        if e.file_type().is_ok_and(|t| t.is_dir()) {
            collect_pids(&e.path(), out)?;
        }
    }
    Ok(())
}

/// Removes `dir` when it has no children and no processes: one rmdir, no listing (what
/// a container's cgroup is once its processes are gone). A directory already gone is
/// fine. Busy (EBUSY, or ENOTEMPTY outside a cgroup filesystem) is the error, left to
/// [`remove_tree`].
pub(super) fn remove_empty(dir: &Path) -> Result<(), CgroupError> {
    match std::fs::remove_dir(dir) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(CgroupError::Remove {
            dir: dir.to_path_buf(),
            source: e,
        }),
        _ => Ok(()),
    }
}

/// Whether `e` is [`remove_empty`]'s refusal of a directory that has children or
/// processes.
fn busy(e: &CgroupError) -> bool {
    matches!(e, CgroupError::Remove { source, .. }
        if matches!(source.raw_os_error(), Some(libc::EBUSY | libc::ENOTEMPTY)))
}

/// Removes `dir` and its descendants (children first). A directory already gone is
/// fine; one that keeps processes is an error (freshly killed tasks may linger for a
/// moment, so EBUSY is retried for about half a second). `dir` is tried first as it is:
/// only when that is refused for children or processes are its children listed.
pub(super) fn remove_tree(dir: &Path) -> Result<(), CgroupError> {
    match remove_empty(dir) {
        Err(e) if busy(&e) => {}
        done => return done,
    }
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        if e.file_type().is_ok_and(|t| t.is_dir()) {
            remove_tree(&e.path())?;
        }
    }
    let mut tries = 0;
    loop {
        match std::fs::remove_dir(dir) {
            Ok(()) => return Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(e) if e.raw_os_error() == Some(libc::EBUSY) && tries < 1000 => {
                tries += 1;
                std::thread::sleep(std::time::Duration::from_micros(500));
            }
            Err(source) => {
                return Err(CgroupError::Remove {
                    dir: dir.to_path_buf(),
                    source,
                })
            }
        }
    }
}

/// Moves `pid` into the cgroup `dir`.
pub(super) fn add_pid(dir: &Path, pid: i32) -> Result<(), CgroupError> {
    let file = dir.join("cgroup.procs");
    crate::sys::write_file(&file, pid.to_string().as_bytes())
        .map_err(|source| CgroupError::AddProcess { pid, file, source })
}

/// kill(2), ignoring errors (the process may be gone).
pub(super) fn signal(pid: i32, sig: i32) {
    if pid > 0 {
        // SAFETY: kill(2) takes plain integers and touches no memory of ours.
        unsafe {
            libc::kill(pid, sig);
        }
    }
}
