//! The compiled seccomp programs of earlier calls, kept in the state root.
//!
//! libseccomp needs 20-25 ms here to compile an engine's default profile (podman's, about
//! 440 syscalls on three architectures; crun 1.8 pays the same, 27-28 ms against 8-9 ms
//! for a `run` without seccomp), several times what the rest of a container costs, and
//! engines pass the same profile to every container and every `exec`. So `create` and
//! `exec` look the program up before compiling, and keep what they compiled.
//!
//! # What makes an entry valid
//! Its key is everything the program depends on, stored in full in the entry and
//! compared byte for byte (the file name is only a hash of it):
//! - the profile, as writ parsed it (its JSON serialisation),
//! - the writ binary (device, inode, size, modification and change time of
//!   /proc/self/exe: a rebuilt or replaced writ, and with it another libseccomp, misses),
//! - libseccomp's version, and the kernel's release, version and machine (libseccomp
//!   asks the kernel which actions and flags it supports).
//!
//! # Who can write it
//! `<root>/@seccomp/` (`@` cannot be in a container id, so no container directory is
//! ever called that, and listings skip it) is made 0700 by writ. A directory or entry not
//! owned by writ's user, writable by group or others, or not a plain directory or file
//! (a symlink is not followed) is not used: writ compiles instead. Entries are written
//! 0600 under a temporary name and renamed into place, so no reader sees a part. Anyone
//! who could still write there could rewrite the state root, and writ itself, anyway.
//! Any failure to read or write the cache only costs the compile.

use std::hash::{Hash, Hasher};
use std::io::{Read, Write};
use std::os::fd::{AsFd, OwnedFd};
use std::path::Path;

use rustix::fs::{AtFlags, FileType, Mode, OFlags};
use writ_spec::Seccomp;

use super::{compile, Program, SeccompError};

/// The cache's directory under the state root.
pub const DIR: &str = "@seccomp";
const MAGIC: &[u8] = b"writ-seccomp-cache/1\n";
/// Entries beyond this many: the directory is emptied before the next one is written.
const MAX_ENTRIES: usize = 64;
/// Larger files are not read.
const MAX_ENTRY: u64 = 4 << 20;
/// The kernel's limit on a program: 4096 instructions of 8 bytes (BPF_MAXINSNS).
const MAX_PROGRAM: usize = 4096 * 8;

/// The program of `profile`: from the cache under `root` when an entry matches, else
/// compiled (and then kept there).
pub fn compile_cached(profile: &Seccomp, root: &Path) -> Result<Program, SeccompError> {
    let Some(key) = key(profile) else {
        return compile(profile);
    };
    let name = file_name(&key);
    let dir = root.join(DIR);
    if let Some(p) = open_dir(&dir, false).and_then(|d| lookup(&d, &name, &key)) {
        crate::logging::debug(|| format!("seccomp: program {name} from the cache"));
        return Ok(p);
    }
    let program = compile(profile)?;
    match open_dir(&dir, true).map(|d| store(&d, &name, &key, &program)) {
        Some(Ok(())) => {}
        Some(Err(e)) => crate::logging::debug(|| format!("seccomp: not cached: {e}")),
        None => crate::logging::debug(|| format!("seccomp: no usable {}", dir.display())),
    }
    Ok(program)
}

/// The entry's file name: a hash of its key (the key itself is in the entry).
fn file_name(key: &[u8]) -> String {
    let mut h = std::hash::DefaultHasher::new();
    key.hash(&mut h);
    format!("{:016x}", h.finish())
}

/// Everything the compiled program depends on, or None where it cannot be told.
fn key(profile: &Seccomp) -> Option<Vec<u8>> {
    let exe = rustix::fs::stat("/proc/self/exe").ok()?;
    let uts = rustix::system::uname();
    let mut key = format!(
        "exe {} {} {} {}.{} {}.{}\nlibseccomp {}\nkernel {:?} {:?} {:?}\n",
        exe.st_dev,
        exe.st_ino,
        exe.st_size,
        exe.st_mtime,
        exe.st_mtime_nsec,
        exe.st_ctime,
        exe.st_ctime_nsec,
        super::libseccomp_version(),
        uts.release(),
        uts.version(),
        uts.machine(),
    )
    .into_bytes();
    serde_json::to_writer(&mut key, profile).ok()?;
    Some(key)
}

/// Whether `fd` is owned by writ's user and not writable by group or others.
fn trusted(fd: impl AsFd, kind: FileType) -> Option<rustix::fs::Stat> {
    let st = rustix::fs::fstat(fd).ok()?;
    let ok = FileType::from_raw_mode(st.st_mode) == kind
        && st.st_uid == rustix::process::geteuid().as_raw()
        && st.st_mode & 0o022 == 0;
    ok.then_some(st)
}

/// The cache directory, made when `create` is set; None when it is not usable.
fn open_dir(dir: &Path, create: bool) -> Option<OwnedFd> {
    if create {
        match rustix::fs::mkdir(dir, Mode::from_raw_mode(0o700)) {
            Ok(()) | Err(rustix::io::Errno::EXIST) => {}
            Err(_) => return None,
        }
    }
    let flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC;
    let fd = rustix::fs::open(dir, flags, Mode::empty()).ok()?;
    trusted(&fd, FileType::Directory)?;
    Some(fd)
}

fn lookup(dir: &OwnedFd, name: &str, key: &[u8]) -> Option<Program> {
    let flags = OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::NONBLOCK | OFlags::CLOEXEC;
    let fd = rustix::fs::openat(dir, name, flags, Mode::empty()).ok()?;
    let st = trusted(&fd, FileType::RegularFile)?;
    if st.st_size as u64 > MAX_ENTRY {
        return None;
    }
    let mut data = Vec::with_capacity(st.st_size as usize);
    std::fs::File::from(fd).read_to_end(&mut data).ok()?;
    decode(&data, key)
}

/// The entry: MAGIC, then the key, the flags, the unknown names (one per line) and the
/// program, each but the flags preceded by its length (u32, little-endian).
fn encode(key: &[u8], p: &Program) -> Vec<u8> {
    fn put_sized(out: &mut Vec<u8>, part: &[u8]) {
        out.extend_from_slice(&(part.len() as u32).to_le_bytes());
        out.extend_from_slice(part);
    }
    let mut out = MAGIC.to_vec();
    put_sized(&mut out, key);
    out.extend_from_slice(&p.flags.to_le_bytes());
    put_sized(&mut out, p.unknown.join("\n").as_bytes());
    put_sized(&mut out, &p.bpf);
    out
}

fn take<'a>(rest: &mut &'a [u8], n: usize) -> Option<&'a [u8]> {
    let (head, tail) = rest.split_at_checked(n)?;
    *rest = tail;
    Some(head)
}

fn sized<'a>(rest: &mut &'a [u8]) -> Option<&'a [u8]> {
    let n = u32::from_le_bytes(take(rest, 4)?.try_into().ok()?) as usize;
    take(rest, n)
}

fn decode(data: &[u8], key: &[u8]) -> Option<Program> {
    let mut rest = data.strip_prefix(MAGIC)?;
    if sized(&mut rest)? != key {
        return None;
    }
    let flags = u32::from_le_bytes(take(&mut rest, 4)?.try_into().ok()?);
    let unknown = std::str::from_utf8(sized(&mut rest)?).ok()?;
    let bpf = sized(&mut rest)?.to_vec();
    if !rest.is_empty() || bpf.is_empty() || bpf.len() % 8 != 0 || bpf.len() > MAX_PROGRAM {
        return None;
    }
    Some(Program {
        bpf,
        flags,
        unknown: unknown
            .split('\n')
            .filter(|s| !s.is_empty())
            .map(String::from)
            .collect(),
    })
}

fn store(dir: &OwnedFd, name: &str, key: &[u8], p: &Program) -> std::io::Result<()> {
    let entries = rustix::fs::Dir::read_from(dir)?
        .filter_map(Result::ok)
        .filter(|e| !e.file_name().to_bytes().starts_with(b"."))
        .map(|e| e.file_name().to_owned())
        .collect::<Vec<_>>();
    if entries.len() >= MAX_ENTRIES {
        for e in &entries {
            let _ = rustix::fs::unlinkat(dir, e.as_c_str(), AtFlags::empty());
        }
    }
    let tmp = format!(".{name}.{}", std::process::id());
    // Left by a process that had this pid and died before renaming it.
    let _ = rustix::fs::unlinkat(dir, &tmp, AtFlags::empty());
    let flags = OFlags::WRONLY | OFlags::CREATE | OFlags::EXCL | OFlags::NOFOLLOW | OFlags::CLOEXEC;
    let fd = rustix::fs::openat(dir, &tmp, flags, Mode::from_raw_mode(0o600))?;
    let written = std::fs::File::from(fd).write_all(&encode(key, p));
    let placed = written.and_then(|()| Ok(rustix::fs::renameat(dir, &tmp, dir, name)?));
    if placed.is_err() {
        let _ = rustix::fs::unlinkat(dir, &tmp, AtFlags::empty());
    }
    placed
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn profile(names: &[&str]) -> Seccomp {
        serde_json::from_value(serde_json::json!({
            "defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 38,
            "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86"],
            "syscalls": [{"names": names, "action": "SCMP_ACT_ALLOW"}]
        }))
        .unwrap()
    }

    fn entry(root: &Path, p: &Seccomp) -> std::path::PathBuf {
        root.join(DIR).join(file_name(&key(p).unwrap()))
    }

    #[test]
    fn a_compiled_program_is_kept_and_served_back() {
        let root = tempfile::tempdir().unwrap();
        let p = profile(&["read", "write", "no_such_syscall_xyz"]);
        let first = compile_cached(&p, root.path()).unwrap();
        assert_eq!(first, compile(&p).unwrap());
        let file = entry(root.path(), &p);
        let meta = std::fs::symlink_metadata(&file).unwrap();
        assert_eq!(meta.permissions().mode() & 0o777, 0o600);
        let dir = std::fs::metadata(root.path().join(DIR)).unwrap();
        assert_eq!(dir.permissions().mode() & 0o777, 0o700);
        assert_eq!(compile_cached(&p, root.path()).unwrap(), first);
        // Another profile is another entry, not the first one's program.
        let q = profile(&["read"]);
        assert_eq!(
            compile_cached(&q, root.path()).unwrap(),
            compile(&q).unwrap()
        );
        assert_eq!(std::fs::read_dir(root.path().join(DIR)).unwrap().count(), 2);
    }

    #[test]
    fn only_a_trusted_entry_with_the_same_key_is_used() {
        let root = tempfile::tempdir().unwrap();
        let p = profile(&["read"]);
        let real = compile_cached(&p, root.path()).unwrap();
        let file = entry(root.path(), &p);
        // An entry with this key is what lookups return (a planted program shows it).
        let planted = Program {
            bpf: vec![6, 0, 0, 0, 0, 0, 0xff, 0x7f],
            flags: 0,
            unknown: vec!["x".into()],
        };
        std::fs::write(&file, encode(&key(&p).unwrap(), &planted)).unwrap();
        assert_eq!(compile_cached(&p, root.path()).unwrap(), planted);
        // A key that differs in one byte (another profile hashed to this name): compiled.
        let mut other = key(&p).unwrap();
        *other.last_mut().unwrap() ^= 1;
        std::fs::write(&file, encode(&other, &planted)).unwrap();
        assert_eq!(compile_cached(&p, root.path()).unwrap(), real);
        // Writable by others, or a symlink to a planted entry: not used.
        std::fs::write(&file, encode(&key(&p).unwrap(), &planted)).unwrap();
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o666)).unwrap();
        assert_eq!(compile_cached(&p, root.path()).unwrap(), real);
        let aside = root.path().join("aside");
        std::fs::write(&aside, encode(&key(&p).unwrap(), &planted)).unwrap();
        std::fs::set_permissions(&aside, std::fs::Permissions::from_mode(0o600)).unwrap();
        let _ = std::fs::remove_file(&file);
        std::os::unix::fs::symlink(&aside, &file).unwrap();
        assert_eq!(compile_cached(&p, root.path()).unwrap(), real);
        // A directory writable by others is not used at all.
        std::fs::remove_file(&file).unwrap();
        std::fs::write(&file, encode(&key(&p).unwrap(), &planted)).unwrap();
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).unwrap();
        let dir = root.path().join(DIR);
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o777)).unwrap();
        assert_eq!(compile_cached(&p, root.path()).unwrap(), real);
    }

    #[test]
    fn damaged_entries_are_refused() {
        let k = b"key".to_vec();
        let p = Program {
            bpf: vec![6, 0, 0, 0, 0, 0, 0xff, 0x7f],
            flags: 2,
            unknown: vec!["a".into(), "b".into()],
        };
        let data = encode(&k, &p);
        assert_eq!(decode(&data, &k), Some(p));
        for n in 0..data.len() {
            assert_eq!(decode(&data[..n], &k), None, "cut at {n}");
        }
        let mut longer = data.clone();
        longer.push(0);
        assert_eq!(decode(&longer, &k), None);
        assert_eq!(decode(&data, b"kez"), None);
    }
}
