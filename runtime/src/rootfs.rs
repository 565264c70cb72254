//! Paths inside the container's root, resolved without ever leaving it: every lookup is an
//! openat2(RESOLVE_IN_ROOT) relative to an fd of the rootfs, so a symlink in the rootfs
//! (absolute or with `..`) is resolved as if the rootfs were `/`. Mounts, device nodes and
//! masks are then made on the resolved fd (`/proc/self/fd/N`), never on a path string that
//! the kernel would walk again (runc CVE-2021-30465, CVE-2025-31133 class).

use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::path::{Path, PathBuf};

use rustix::fs::{Mode, OFlags, ResolveFlags};

use crate::sys::{Context, Errno, SysError};

/// What to create at the end of a path that does not exist yet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Leaf {
    Dir,
    File,
}

/// An open root directory.
pub struct Root {
    fd: OwnedFd,
    path: PathBuf,
}

fn resolve_flags() -> ResolveFlags {
    ResolveFlags::IN_ROOT | ResolveFlags::NO_MAGICLINKS
}

fn to_errno(e: rustix::io::Errno) -> Errno {
    Errno::from_raw(e.raw_os_error())
}

/// The components of a container path, without the leading `/` and empty parts.
fn components(p: &str) -> Vec<&str> {
    p.split('/')
        .filter(|c| !c.is_empty() && *c != ".")
        .collect()
}

impl Root {
    /// Opens a directory to serve as the root of lookups.
    pub fn open(path: &Path) -> Result<Root, SysError> {
        let fd = rustix::fs::open(
            path,
            OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC,
            Mode::empty(),
        )
        .with_ctx(|| format!("opening rootfs {}", path.display()))?;
        Ok(Root {
            fd,
            path: path.to_path_buf(),
        })
    }

    /// The root directory's O_PATH fd.
    pub fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }

    /// An O_PATH fd of an existing path inside the root.
    pub fn resolve(&self, rel: &str) -> Result<OwnedFd, Errno> {
        let comps = components(rel);
        if comps.is_empty() {
            return rustix::fs::openat(
                &self.fd,
                ".",
                OFlags::PATH | OFlags::CLOEXEC | OFlags::DIRECTORY,
                Mode::empty(),
            )
            .map_err(to_errno);
        }
        self.resolve_flags(&comps.join("/"), OFlags::PATH | OFlags::CLOEXEC)
    }

    fn resolve_flags(&self, rel: &str, flags: OFlags) -> Result<OwnedFd, Errno> {
        loop {
            match rustix::fs::openat2(&self.fd, rel, flags, Mode::empty(), resolve_flags()) {
                Err(rustix::io::Errno::AGAIN) | Err(rustix::io::Errno::INTR) => continue,
                r => return r.map_err(to_errno),
            }
        }
    }

    /// Resolves `rel` inside the root, creating missing directories (mode 0755) and, when
    /// missing, the leaf as `leaf`. Returns an O_PATH fd of the leaf.
    pub fn mkdir_all(&self, rel: &str, leaf: Leaf) -> Result<OwnedFd, SysError> {
        self.mkdir_all_depth(rel, leaf, 0)
    }

    fn mkdir_all_depth(&self, rel: &str, leaf: Leaf, depth: u32) -> Result<OwnedFd, SysError> {
        if depth > 40 {
            return Err(self.err(rel, "resolving", Errno::ELOOP));
        }
        let comps = components(rel);
        let mut parent = self.resolve("").map_err(|e| self.err(rel, "opening", e))?;
        for i in 0..comps.len() {
            let prefix = comps[..=i].join("/");
            match self.resolve_flags(&prefix, OFlags::PATH | OFlags::CLOEXEC) {
                Ok(fd) => {
                    parent = fd;
                    continue;
                }
                Err(Errno::ENOENT) => {}
                Err(e) => return Err(self.err(&prefix, "resolving", e)),
            }
            let name = comps[i];
            if name == ".." {
                return Err(self.err(&prefix, "resolving", Errno::ENOENT));
            }
            let is_leaf = i + 1 == comps.len();
            let made = if is_leaf && leaf == Leaf::File {
                rustix::fs::openat(
                    &parent,
                    name,
                    OFlags::CREATE
                        | OFlags::EXCL
                        | OFlags::WRONLY
                        | OFlags::NOFOLLOW
                        | OFlags::CLOEXEC,
                    Mode::from_raw_mode(0o644),
                )
                .map(drop)
            } else {
                rustix::fs::mkdirat(&parent, name, Mode::from_raw_mode(0o755))
            };
            match made {
                Ok(()) => {}
                Err(rustix::io::Errno::EXIST) => {
                    // A dangling symlink: create its target, resolved inside the root.
                    if let Ok(target) = rustix::fs::readlinkat(&parent, name, Vec::new()) {
                        let target = target.to_string_lossy().into_owned();
                        let mut next = if target.starts_with('/') {
                            target
                        } else {
                            format!("{}/{}", comps[..i].join("/"), target)
                        };
                        for c in &comps[i + 1..] {
                            next.push('/');
                            next.push_str(c);
                        }
                        return self.mkdir_all_depth(&next, leaf, depth + 1);
                    }
                }
                Err(e) => return Err(self.err(&prefix, "creating", to_errno(e))),
            }
            parent = self
                .resolve_flags(&prefix, OFlags::PATH | OFlags::CLOEXEC)
                .map_err(|e| self.err(&prefix, "resolving", e))?;
        }
        Ok(parent)
    }

    /// Opens the parent directory of `rel` (created if missing) and returns it with the
    /// last component's name.
    pub fn parent_of(&self, rel: &str) -> Result<(OwnedFd, String), SysError> {
        let comps = components(rel);
        let Some((last, dirs)) = comps.split_last() else {
            return Err(self.err(rel, "not a path below the root:", Errno::EINVAL));
        };
        if *last == ".." {
            return Err(self.err(rel, "a path that ends in ..:", Errno::EINVAL));
        }
        let dir = self.mkdir_all(&dirs.join("/"), Leaf::Dir)?;
        Ok((dir, (*last).to_string()))
    }

    fn err(&self, rel: &str, what: &str, e: Errno) -> SysError {
        SysError::new(
            format!(
                "{what} {} inside rootfs {}",
                display_rel(rel),
                self.path.display()
            ),
            e,
        )
    }
}

fn display_rel(rel: &str) -> String {
    if rel.starts_with('/') {
        rel.to_string()
    } else {
        format!("/{rel}")
    }
}

/// `true` when the O_PATH fd refers to a directory.
pub fn is_dir(fd: BorrowedFd) -> bool {
    rustix::fs::fstat(fd)
        .map(|st| {
            rustix::fs::FileType::from_raw_mode(st.st_mode) == rustix::fs::FileType::Directory
        })
        .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    fn real_path(fd: BorrowedFd) -> PathBuf {
        std::fs::read_link(crate::sys::fd_path(fd)).unwrap()
    }

    #[test]
    fn symlinks_resolve_inside_the_root() {
        let outside = tempfile::tempdir().unwrap();
        let root = tempfile::tempdir().unwrap();
        std::fs::create_dir(root.path().join("etc")).unwrap();
        // Absolute and `..` escapes both land inside the root.
        symlink("/etc", root.path().join("abs")).unwrap();
        symlink("../../../../../../etc", root.path().join("dots")).unwrap();
        symlink(outside.path(), root.path().join("out")).unwrap();
        let r = Root::open(root.path()).unwrap();
        let canon = root.path().canonicalize().unwrap();
        assert_eq!(
            real_path(r.resolve("abs").unwrap().as_fd()),
            canon.join("etc")
        );
        assert_eq!(
            real_path(r.resolve("/dots").unwrap().as_fd()),
            canon.join("etc")
        );
        // A link to a host directory resolves to that path *inside* the root: created there.
        let fd = r.mkdir_all("out/sub", Leaf::Dir).unwrap();
        let got = real_path(fd.as_fd());
        assert!(got.starts_with(&canon), "{got:?} escaped {canon:?}");
        assert!(std::fs::read_dir(outside.path()).unwrap().next().is_none());
    }

    #[test]
    fn mkdir_all_creates_dirs_and_file_leaf() {
        let root = tempfile::tempdir().unwrap();
        let r = Root::open(root.path()).unwrap();
        let fd = r.mkdir_all("/a/b/c", Leaf::File).unwrap();
        assert!(!is_dir(fd.as_fd()));
        assert!(root.path().join("a/b/c").is_file());
        let fd = r.mkdir_all("a/d", Leaf::Dir).unwrap();
        assert!(is_dir(fd.as_fd()));
        let (dir, name) = r.parent_of("/x/y/z").unwrap();
        assert_eq!(name, "z");
        assert!(is_dir(dir.as_fd()));
        assert!(root.path().join("x/y").is_dir());
    }

    #[test]
    fn dangling_symlinks_are_followed_inside_the_root() {
        let outside = tempfile::tempdir().unwrap();
        let root = tempfile::tempdir().unwrap();
        let target = outside.path().join("victim");
        symlink(&target, root.path().join("link")).unwrap();
        let r = Root::open(root.path()).unwrap();
        // The link resolves inside the root to a missing path, which is created there;
        // nothing is created through it on the host.
        let fd = r.mkdir_all("link", Leaf::File).unwrap();
        let canon = root.path().canonicalize().unwrap();
        assert!(real_path(fd.as_fd()).starts_with(&canon));
        assert!(!target.exists());
        // Loops end with an error.
        symlink("loop2", root.path().join("loop1")).unwrap();
        symlink("loop1", root.path().join("loop2")).unwrap();
        assert!(r.mkdir_all("loop1/x", Leaf::Dir).is_err());
    }
}
