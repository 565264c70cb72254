//! Which functions of one binary a tree of processes enters, and from which command.
//!
//! Every process of the tree is traced (`PTRACE_O_TRACEFORK | VFORK | CLONE | EXEC`). When
//! a process execs the traced binary (matched by inode, so the read-only view writ
//! re-executes through counts too), an `int3` is written over the first byte of every
//! function through `/proc/PID/mem`; the first time the process enters a function it
//! traps, the function is recorded with the process's command, and the original byte is
//! put back. A fork inherits its parent's remaining breakpoints and command. Processes
//! running other programs are only followed (their children may exec the binary).
//! Nothing is timed: the figures are which functions, never how long.

use std::collections::{BTreeSet, HashMap};
use std::fs::File;
use std::os::unix::fs::{FileExt, MetadataExt};
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::Command;

/// The functions of the binary, sorted by address.
pub struct Functions {
    /// Start addresses (link-time, relative to the load base of a PIE).
    pub addrs: Vec<u64>,
    /// Linker symbol names, parallel to `addrs`.
    pub names: Vec<String>,
    /// The extent of all functions: `[start, end)`.
    pub start: u64,
    pub end: u64,
    /// The file offset of address `start`.
    pub file_offset: u64,
}

impl Functions {
    fn index(&self, addr: u64) -> Option<usize> {
        self.addrs.binary_search(&addr).ok()
    }
}

/// What the traced tree entered.
#[derive(Default)]
pub struct Coverage {
    /// Function indices in the order they were first entered by any process.
    pub first_seen: Vec<usize>,
    /// For each entered function, the commands whose processes entered it.
    pub users: HashMap<usize, BTreeSet<String>>,
}

/// One traced process.
#[derive(Clone)]
struct Proc {
    /// Load base of the binary when the process runs it.
    base: Option<u64>,
    /// The command this process belongs to (inherited by forks).
    label: String,
    /// The initial stop of a new process is still to come.
    fresh: bool,
}

fn ptrace(req: libc::c_uint, pid: libc::pid_t, data: usize) -> Result<i64, String> {
    // SAFETY: the requests used here take an integer `data` or a pointer to a value the
    // caller owns for the duration of the call (GETREGS/SETREGS use `regs` below).
    let r = unsafe { libc::ptrace(req, pid, std::ptr::null_mut::<libc::c_void>(), data) };
    if r < 0 {
        return Err(format!(
            "ptrace({req}, {pid}): {}",
            std::io::Error::last_os_error()
        ));
    }
    Ok(r)
}

fn get_regs(pid: libc::pid_t) -> Result<libc::user_regs_struct, String> {
    // SAFETY: user_regs_struct is plain integers; all-zero is a valid value.
    let mut regs: libc::user_regs_struct = unsafe { std::mem::zeroed() };
    ptrace(
        libc::PTRACE_GETREGS,
        pid,
        &mut regs as *mut libc::user_regs_struct as usize,
    )?;
    Ok(regs)
}

fn set_regs(pid: libc::pid_t, regs: &libc::user_regs_struct) -> Result<(), String> {
    ptrace(
        libc::PTRACE_SETREGS,
        pid,
        regs as *const libc::user_regs_struct as usize,
    )
    .map(drop)
}

/// Load base of the binary `ino` in `pid`, if the process maps it (the mapping at file
/// offset 0; a PIE's first segment is linked at address 0).
fn load_base(pid: libc::pid_t, ino: u64) -> Option<u64> {
    let maps = std::fs::read_to_string(format!("/proc/{pid}/maps")).ok()?;
    maps.lines().find_map(|l| {
        let f: Vec<&str> = l.split_whitespace().collect();
        let (range, offset, inode) = (f.first()?, f.get(2)?, f.get(4)?);
        if inode.parse::<u64>().ok()? != ino || u64::from_str_radix(offset, 16).ok()? != 0 {
            return None;
        }
        u64::from_str_radix(range.split('-').next()?, 16).ok()
    })
}

/// The command of a process running the binary: the first argument after `--root DIR`
/// (the scenarios always pass it first).
fn command_of(pid: libc::pid_t) -> String {
    let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
    let args: Vec<String> = cmdline
        .split(|b| *b == 0)
        .map(|a| String::from_utf8_lossy(a).into_owned())
        .collect();
    args.iter()
        .position(|a| a == "--root")
        .and_then(|i| args.get(i + 2))
        .cloned()
        .unwrap_or_else(|| "other".into())
}

struct Tracer<'a> {
    fns: &'a Functions,
    ino: u64,
    /// The binary's original bytes of `[fns.start, fns.end)`.
    original: Vec<u8>,
    procs: HashMap<libc::pid_t, Proc>,
    cov: Coverage,
}

impl Tracer<'_> {
    fn mem(pid: libc::pid_t) -> Result<File, String> {
        File::options()
            .read(true)
            .write(true)
            .open(format!("/proc/{pid}/mem"))
            .map_err(|e| format!("/proc/{pid}/mem: {e}"))
    }

    /// Write a breakpoint over every function of the binary in `pid`.
    fn arm(&self, pid: libc::pid_t, base: u64) -> Result<(), String> {
        let mut text = self.original.clone();
        for a in &self.fns.addrs {
            if let Some(b) = text.get_mut((a - self.fns.start) as usize) {
                *b = 0xcc;
            }
        }
        Self::mem(pid)?
            .write_all_at(&text, base + self.fns.start)
            .map_err(|e| format!("arming pid {pid}: {e}"))
    }

    fn on_exec(&mut self, pid: libc::pid_t) -> Result<(), String> {
        let base = load_base(pid, self.ino);
        if let Some(base) = base {
            self.arm(pid, base)?;
        }
        let label = match base {
            Some(_) => command_of(pid),
            None => self
                .procs
                .get(&pid)
                .map(|p| p.label.clone())
                .unwrap_or_default(),
        };
        self.procs.insert(
            pid,
            Proc {
                base,
                label,
                fresh: false,
            },
        );
        Ok(())
    }

    /// A trap in `pid`: a breakpoint of ours (recorded, removed, resumed at the function)
    /// or not (the signal is the process's).
    fn on_trap(&mut self, pid: libc::pid_t) -> Result<bool, String> {
        let Some(p) = self.procs.get(&pid).cloned() else {
            return Ok(false);
        };
        let Some(base) = p.base else {
            return Ok(false);
        };
        let mut regs = get_regs(pid)?;
        let addr = regs.rip.wrapping_sub(1).wrapping_sub(base);
        let Some(i) = self.fns.index(addr) else {
            return Ok(false);
        };
        let users = self.cov.users.entry(i).or_default();
        if users.is_empty() {
            self.cov.first_seen.push(i);
        }
        users.insert(p.label);
        let orig = self.original[(addr - self.fns.start) as usize];
        Self::mem(pid)?
            .write_all_at(&[orig], base + addr)
            .map_err(|e| format!("disarming pid {pid}: {e}"))?;
        regs.rip -= 1;
        set_regs(pid, &regs)?;
        Ok(true)
    }
}

/// Run `cmd` with every process of its tree traced; return the functions of `binary` they
/// entered.
pub fn trace(binary: &Path, fns: &Functions, mut cmd: Command) -> Result<Coverage, String> {
    let ino = std::fs::metadata(binary)
        .map_err(|e| format!("{}: {e}", binary.display()))?
        .ino();
    let mut original = vec![0u8; (fns.end - fns.start) as usize];
    File::open(binary)
        .and_then(|f| f.read_exact_at(&mut original, fns.file_offset))
        .map_err(|e| format!("reading the functions of {}: {e}", binary.display()))?;
    // SAFETY: the closure runs in the child between fork and exec and makes one
    // async-signal-safe system call.
    unsafe {
        cmd.pre_exec(|| {
            if libc::ptrace(libc::PTRACE_TRACEME, 0, 0, 0) < 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let child = cmd.spawn().map_err(|e| format!("{cmd:?}: {e}"))?;
    let root = child.id() as libc::pid_t;
    drop(child);
    let mut t = Tracer {
        fns,
        ino,
        original,
        procs: HashMap::new(),
        cov: Coverage::default(),
    };
    let mut status = 0;
    // The child stops with SIGTRAP after its exec (PTRACE_TRACEME).
    // SAFETY: waitpid with a valid out-pointer.
    if unsafe { libc::waitpid(root, &mut status, libc::__WALL) } != root {
        return Err(format!(
            "waitpid({root}): {}",
            std::io::Error::last_os_error()
        ));
    }
    let opts = libc::PTRACE_O_TRACEFORK
        | libc::PTRACE_O_TRACEVFORK
        | libc::PTRACE_O_TRACECLONE
        | libc::PTRACE_O_TRACEEXEC
        | libc::PTRACE_O_EXITKILL;
    ptrace(libc::PTRACE_SETOPTIONS, root, opts as usize)?;
    t.on_exec(root)?;
    let mut root_status = None;
    ptrace(libc::PTRACE_CONT, root, 0)?;
    loop {
        // SAFETY: waitpid with a valid out-pointer.
        let pid = unsafe { libc::waitpid(-1, &mut status, libc::__WALL) };
        if pid < 0 {
            let e = std::io::Error::last_os_error();
            match e.raw_os_error() {
                Some(libc::EINTR) => continue,
                Some(libc::ECHILD) => break,
                _ => return Err(format!("waitpid: {e}")),
            }
        }
        if libc::WIFEXITED(status) || libc::WIFSIGNALED(status) {
            t.procs.remove(&pid);
            if pid == root {
                root_status = Some(status);
            }
            continue;
        }
        if !libc::WIFSTOPPED(status) {
            continue;
        }
        let sig = libc::WSTOPSIG(status);
        let event = status >> 16;
        // A process seen for the first time is a new child: it inherits its parent's
        // image, breakpoints and command.
        if !t.procs.contains_key(&pid) {
            let parent = parent_of(pid).and_then(|pp| t.procs.get(&pp).cloned());
            let mut p = parent.unwrap_or(Proc {
                base: load_base(pid, ino),
                label: "other".into(),
                fresh: true,
            });
            p.fresh = true;
            t.procs.insert(pid, p);
        }
        let deliver = if event == libc::PTRACE_EVENT_EXEC {
            t.on_exec(pid)?;
            0
        } else if event != 0 {
            0
        } else if sig == libc::SIGSTOP && t.procs.get(&pid).is_some_and(|p| p.fresh) {
            if let Some(p) = t.procs.get_mut(&pid) {
                p.fresh = false;
            }
            0
        } else if sig == libc::SIGTRAP && t.on_trap(pid)? {
            0
        } else {
            sig
        };
        // A process may be gone by now (killed while stopped): not an error.
        let _ = ptrace(libc::PTRACE_CONT, pid, deliver as usize);
    }
    match root_status {
        Some(s) if libc::WIFEXITED(s) && libc::WEXITSTATUS(s) == 0 => Ok(t.cov),
        Some(s) => Err(format!("the traced scenario failed (wait status {s:#x})")),
        None => Err("the traced scenario was not reaped".into()),
    }
}

fn parent_of(pid: libc::pid_t) -> Option<libc::pid_t> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("PPid:"))
        .and_then(|v| v.trim().parse().ok())
}
