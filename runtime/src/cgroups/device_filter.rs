//! The cgroup v2 device filter (config-linux.md#allowed-device-list): the container's
//! device rules compiled into a `BPF_PROG_TYPE_CGROUP_DEVICE` program attached to its
//! cgroup2 directory (`BPF_CGROUP_DEVICE`), as runc and crun do. cgroup v2 has no
//! devices files: the kernel runs the programs of the task's cgroup2 cgroup (and of its
//! ancestors, with `BPF_F_ALLOW_MULTI`) on every open and mknod of a device node, and
//! refuses the access (EPERM) when one returns 0. On a hybrid host it runs them too, before
//! the v1 devices controller's check (`devcgroup_check_permission`).
//!
//! # Semantics
//!
//! The rules apply in order, as on cgroup v1: for each access bit the request asks
//! (read, write, mknod), the last rule that matches the device's type, major and minor
//! and lists that bit decides; a bit no rule decides is allowed (a new v1 cgroup starts
//! from its parent, which allows everything; the usual first rule, "deny all", decides
//! every bit). A request is allowed when every bit it asks is. Two places where this is
//! stricter than a v1 hierarchy: v1 silently ignores a deny that would punch a hole in an
//! allowed wildcard (`allow c *:* rwm` then `deny c 1:3 w`), and a deny of a wildcard
//! removes only the identical exception; here the later rule wins in both cases, as the
//! config says. A request that asks no bit (the kernel's check for an exec, say) grants
//! nothing and is allowed.
//!
//! # The program
//!
//! The context is `struct bpf_cgroup_dev_ctx { u32 access_type; u32 major; u32 minor; }`,
//! the device type (BPF_DEVCG_DEV_BLOCK 1, CHAR 2) in the low 16 bits of `access_type`
//! and the access bits (MKNOD 1, READ 2, WRITE 4) in the high 16. The program keeps the
//! bits still undecided in r3 and walks the rules from the last to the first: a matching
//! allow clears its bits (all cleared: allow), a matching deny of an undecided bit
//! refuses. An `a` rule matches everything, so the rules before it are never looked at.
//! Every jump goes forward; the program is 7 instructions plus at most 7 per rule.
//!
//! # Why no crate
//!
//! aya loads programs from ELF objects built by a BPF toolchain at compile time; a
//! program made from the config at run time does not fit it, and it would bring an object
//! loader, BTF and map support into every `writ` call. rbpf is a userspace interpreter
//! and JIT, it cannot load into the kernel (it is used by the tests, to run the programs
//! compiled here). What is needed is a dozen instruction encodings and four bpf(2)
//! commands (bpf.rs), as runc (via cilium/ebpf's assembler) and crun (by hand) do.
//! Measured on this project's machine (kernel 6.18, 2026-12-01): the release binary grows by
//! 13 KB (3,825,768 to 3,839,144 bytes); for the 47 instructions of a podman-like config
//! (deny all, the default devices) compiling takes 5 µs and load, query and attach 0.23 ms
//! (median; a replace about the same), paid only where the program is used. The kernel
//! has no `BPF_PROG_TEST_RUN` for this program type (ENOTSUPP), hence rbpf in the tests.
//!
//! # Replacing
//!
//! [`install`] also serves `update`: when one program is attached already it is swapped
//! for the new one in one step (`BPF_F_ALLOW_MULTI | BPF_F_REPLACE`, kernel 5.6+);
//! otherwise the new program is attached first and the old ones detached after, so at no
//! moment does neither apply (for a moment both do, which only refuses more).

use std::os::fd::{AsFd, OwnedFd};
use std::path::{Path, PathBuf};

use super::bpf::{self, Insn};
use crate::plan::DeviceRule;
use crate::sys::{errno_text, Errno};

const FIELD: &str = "/linux/resources/devices";
const LICENSE: &std::ffi::CStr = c"Apache-2.0";

/// Access bits of `bpf_cgroup_dev_ctx` (BPF_DEVCG_ACC_*).
const ACC_MKNOD: i32 = 1;
const ACC_READ: i32 = 2;
const ACC_WRITE: i32 = 4;
const ACC_ALL: i32 = ACC_MKNOD | ACC_READ | ACC_WRITE;
/// Device types of `bpf_cgroup_dev_ctx` (BPF_DEVCG_DEV_*).
const DEV_BLOCK: i32 = 1;
const DEV_CHAR: i32 = 2;

/// Why the filter could not be made or attached.
#[derive(Debug, thiserror::Error)]
pub enum FilterError {
    /// A device rule the filter cannot express.
    #[error("{FIELD}: rule {rule:?}: {reason} (controller devices, cgroup v2 device filter)")]
    Rule {
        /// The rule, as the config gave it.
        rule: String,
        /// Why.
        reason: String,
    },
    /// The kernel refused the program.
    #[error("{FIELD}: the kernel refused the device filter program (bpf BPF_PROG_LOAD, BPF_PROG_TYPE_CGROUP_DEVICE, controller devices): {}{hint}{log}", errno_text(*errno))]
    Load {
        /// bpf(2)'s errno.
        errno: Errno,
        /// Why that may be (empty, or starting with a space).
        hint: &'static str,
        /// The verifier's log, when it has one.
        log: String,
    },
    /// The program could not be attached to (or detached from) the cgroup.
    #[error("{FIELD}: {what} {} (controller devices, cgroup v2 device filter): {}{hint}", dir.display(), errno_text(*errno))]
    Attach {
        /// The step.
        what: &'static str,
        /// The cgroup directory.
        dir: PathBuf,
        /// bpf(2)'s errno.
        errno: Errno,
        /// Why that may be (empty, or starting with a space).
        hint: &'static str,
    },
}

// Opcodes (class | op | source).
const LDX_W: u8 = 0x61; // BPF_LDX | BPF_MEM | BPF_W
const AND_K: u8 = 0x54; // BPF_ALU | BPF_AND | BPF_K
const RSH_K: u8 = 0x74; // BPF_ALU | BPF_RSH | BPF_K
const MOV_K: u8 = 0xb4; // BPF_ALU | BPF_MOV | BPF_K
const MOV_X: u8 = 0xbc; // BPF_ALU | BPF_MOV | BPF_X
const JA: u8 = 0x05; // BPF_JMP | BPF_JA
const JEQ_K: u8 = 0x15; // BPF_JMP | BPF_JEQ | BPF_K
const JNE_K: u8 = 0x55; // BPF_JMP | BPF_JNE | BPF_K
const JNE_X: u8 = 0x5d; // BPF_JMP | BPF_JNE | BPF_X
const EXIT: u8 = 0x95; // BPF_JMP | BPF_EXIT

// Registers.
const R0: u8 = 0;
const R1: u8 = 1;
const TYPE: u8 = 2;
const ACCESS: u8 = 3;
const MAJOR: u8 = 4;
const MINOR: u8 = 5;

/// Where a jump goes, resolved once the program is laid out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Target {
    /// The first instruction of the next rule (or the end of the rules).
    Next,
    Allow,
    Deny,
}

/// One rule, checked: device type (`None` = any), major, minor (`None` = any), access
/// bits, allow.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Rule {
    kind: Option<i32>,
    major: Option<u32>,
    minor: Option<u32>,
    access: i32,
    allow: bool,
}

fn check(r: &DeviceRule) -> Result<Rule, FilterError> {
    let bad = |reason: String| FilterError::Rule {
        rule: r.v1_line(),
        reason,
    };
    let num = |v: i64, what: &str| -> Result<Option<u32>, FilterError> {
        if v < 0 {
            return Ok(None);
        }
        u32::try_from(v)
            .map(Some)
            .map_err(|_| bad(format!("{what} {v} is out of range")))
    };
    let kind = match r.kind {
        'a' => None,
        'b' => Some(DEV_BLOCK),
        'c' => Some(DEV_CHAR),
        k => return Err(bad(format!("unknown device type {k:?}"))),
    };
    let mut access = 0;
    for c in r.access.chars() {
        access |= match c {
            'r' => ACC_READ,
            'w' => ACC_WRITE,
            'm' => ACC_MKNOD,
            _ => return Err(bad(format!("unknown access {c:?} (expected r, w, m)"))),
        };
    }
    if kind.is_none() {
        // "a" is every device with every access, whatever else the rule says (as v1).
        return Ok(Rule {
            kind,
            major: None,
            minor: None,
            access: ACC_ALL,
            allow: r.allow,
        });
    }
    Ok(Rule {
        kind,
        major: num(r.major, "major")?,
        minor: num(r.minor, "minor")?,
        access,
        allow: r.allow,
    })
}

fn op(code: u8, dst: u8, src: u8, imm: i32) -> (Insn, Option<Target>) {
    (
        Insn {
            code,
            dst,
            src,
            off: 0,
            imm,
        },
        None,
    )
}

/// `dst = *(u32 *)(r1 + off)`: a field of the context.
fn load_ctx(dst: u8, off: i16) -> (Insn, Option<Target>) {
    let (mut i, _) = op(LDX_W, dst, R1, 0);
    i.off = off;
    (i, None)
}

fn jump(code: u8, dst: u8, src: u8, imm: i32, to: Target) -> (Insn, Option<Target>) {
    let (i, _) = op(code, dst, src, imm);
    (i, Some(to))
}

/// `if reg != value goto next`, for a u32 value (an immediate is sign-extended, so values
/// above i32::MAX go through r0).
fn skip_unless(reg: u8, value: u32, out: &mut Vec<(Insn, Option<Target>)>) {
    match i32::try_from(value) {
        Ok(v) => out.push(jump(JNE_K, reg, 0, v, Target::Next)),
        Err(_) => {
            out.push(op(MOV_K, R0, 0, value as i32));
            out.push(jump(JNE_X, reg, R0, 0, Target::Next));
        }
    }
}

/// Compiles the rules (in config order) into the filter program.
#[writ_macros::requirement("config_linux.device_allowlist.order")]
pub fn compile(rules: &[DeviceRule]) -> Result<Vec<Insn>, FilterError> {
    let rules: Vec<Rule> = rules.iter().map(check).collect::<Result<_, _>>()?;
    // Blocks of (instruction, jump target) per rule, last rule first.
    let mut blocks: Vec<Vec<(Insn, Option<Target>)>> = Vec::new();
    for r in rules.iter().rev().filter(|r| r.access != 0) {
        let mut b = Vec::new();
        if let Some(k) = r.kind {
            b.push(jump(JNE_K, TYPE, 0, k, Target::Next));
        }
        if let Some(m) = r.major {
            skip_unless(MAJOR, m, &mut b);
        }
        if let Some(m) = r.minor {
            skip_unless(MINOR, m, &mut b);
        }
        let all = r.access == ACC_ALL;
        match (r.allow, all) {
            (true, true) => b.push(jump(JA, 0, 0, 0, Target::Allow)),
            (false, true) => b.push(jump(JA, 0, 0, 0, Target::Deny)),
            (true, false) => {
                b.push(op(AND_K, ACCESS, 0, !r.access & ACC_ALL));
                b.push(jump(JEQ_K, ACCESS, 0, 0, Target::Allow));
            }
            (false, false) => {
                b.push(op(MOV_X, R0, ACCESS, 0));
                b.push(op(AND_K, R0, 0, r.access));
                b.push(jump(JNE_K, R0, 0, 0, Target::Deny));
            }
        }
        blocks.push(b);
        if r.kind.is_none() {
            // Matches everything: what comes before it in the config is never reached.
            break;
        }
    }
    let prologue = [
        load_ctx(TYPE, 0),
        op(AND_K, TYPE, 0, 0xffff),
        load_ctx(ACCESS, 0),
        op(RSH_K, ACCESS, 0, 16),
        load_ctx(MAJOR, 4),
        load_ctx(MINOR, 8),
        // Nothing asked, nothing granted.
        jump(JEQ_K, ACCESS, 0, 0, Target::Allow),
    ];
    let body_len: usize = prologue.len() + blocks.iter().map(Vec::len).sum::<usize>();
    let allow_at = body_len;
    let deny_at = allow_at + 2;
    let uses_deny = blocks
        .iter()
        .flatten()
        .any(|(_, t)| *t == Some(Target::Deny));
    let mut out = Vec::with_capacity(deny_at + 2);
    let place = |block: &[(Insn, Option<Target>)], next: usize, out: &mut Vec<Insn>| {
        for (insn, target) in block {
            let mut insn = *insn;
            if let Some(t) = target {
                let to = match t {
                    Target::Next => next,
                    Target::Allow => allow_at,
                    Target::Deny => deny_at,
                };
                // A jump's offset counts from the instruction after it.
                insn.off = (to - out.len() - 1) as i16;
            }
            out.push(insn);
        }
    };
    place(&prologue, prologue.len(), &mut out);
    for b in &blocks {
        let next = out.len() + b.len();
        place(b, next, &mut out);
    }
    out.push(op(MOV_K, R0, 0, 1).0);
    out.push(op(EXIT, 0, 0, 0).0);
    if uses_deny {
        out.push(op(MOV_K, R0, 0, 0).0);
        out.push(op(EXIT, 0, 0, 0).0);
    }
    if out.len() > i16::MAX as usize {
        return Err(FilterError::Rule {
            rule: format!("{} rules", rules.len()),
            reason: "too many rules for one program".into(),
        });
    }
    Ok(out)
}

/// Loads the program, with the verifier's log in the error when the kernel refuses it.
fn load(prog: &[Insn]) -> Result<OwnedFd, FilterError> {
    let refused = |errno: Errno, log: String| FilterError::Load {
        errno,
        hint: match errno {
            Errno::EPERM => {
                " (loading a program needs CAP_BPF or CAP_SYS_ADMIN in the initial user namespace)"
            }
            Errno::EINVAL => " (a kernel without CONFIG_CGROUP_BPF, or the verifier refused it)",
            Errno::ENOSYS => " (a kernel without the bpf system call)",
            _ => "",
        },
        log,
    };
    match bpf::load_cgroup_device(prog, LICENSE, None) {
        Ok(fd) => Ok(fd),
        Err(Errno::EINVAL) => {
            let mut buf = vec![0u8; 1 << 16];
            let e = bpf::load_cgroup_device(prog, LICENSE, Some(&mut buf)).err();
            let text = String::from_utf8_lossy(&buf);
            let text = text.trim_end_matches('\0').trim();
            let tail: Vec<&str> = text.lines().rev().take(3).collect();
            let log = if tail.is_empty() {
                String::new()
            } else {
                let t: Vec<&str> = tail.into_iter().rev().collect();
                format!("; verifier: {}", t.join(" / "))
            };
            Err(refused(e.unwrap_or(Errno::EINVAL), log))
        }
        Err(e) => Err(refused(e, String::new())),
    }
}

fn open_dir(dir: &Path) -> Result<OwnedFd, FilterError> {
    rustix::fs::open(
        dir,
        rustix::fs::OFlags::DIRECTORY | rustix::fs::OFlags::RDONLY | rustix::fs::OFlags::CLOEXEC,
        rustix::fs::Mode::empty(),
    )
    .map_err(|e| FilterError::Attach {
        what: "opening",
        dir: dir.to_path_buf(),
        errno: Errno::from_raw(e.raw_os_error()),
        hint: "",
    })
}

/// The ids of the device programs attached to the cgroup2 directory `dir`.
pub fn attached(dir: &Path) -> Result<Vec<u32>, FilterError> {
    let fd = open_dir(dir)?;
    bpf::query(fd.as_fd()).map_err(|errno| FilterError::Attach {
        what: "listing the device programs of",
        dir: dir.to_path_buf(),
        errno,
        hint: "",
    })
}

/// Compiles `rules` and makes the program the one device filter of the cgroup2
/// directory `dir`, replacing whatever device programs are attached there.
pub fn install(dir: &Path, rules: &[DeviceRule]) -> Result<(), FilterError> {
    let prog = load(&compile(rules)?)?;
    let cg = open_dir(dir)?;
    let err = |what: &'static str, errno: Errno| {
        FilterError::Attach {
        what,
        dir: dir.to_path_buf(),
        errno,
        hint: match errno {
            Errno::EPERM => " (a parent cgroup has a device program attached without BPF_F_ALLOW_MULTI, or the caller lacks CAP_SYS_ADMIN)",
            Errno::EINVAL | Errno::EBADF => " (not a cgroup2 directory, or a kernel without cgroup device programs)",
            _ => "",
        },
    }
    };
    let ids = bpf::query(cg.as_fd()).map_err(|e| err("listing the device programs of", e))?;
    let old: Vec<OwnedFd> = ids
        .iter()
        .map(|&id| bpf::prog_fd(id))
        .collect::<Result<_, _>>()
        .map_err(|e| err("opening a device program attached to", e))?;
    if let [one] = &old[..] {
        match bpf::attach(cg.as_fd(), prog.as_fd(), Some(one.as_fd())) {
            Ok(()) => return Ok(()),
            // A kernel without BPF_F_REPLACE (before 5.6): attach, then detach.
            Err(Errno::EINVAL) => {}
            Err(e) => return Err(err("replacing the device filter of", e)),
        }
    }
    bpf::attach(cg.as_fd(), prog.as_fd(), None)
        .map_err(|e| err("attaching the device filter to", e))?;
    for o in &old {
        bpf::detach(cg.as_fd(), o.as_fd())
            .map_err(|e| err("detaching an old device program from", e))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(allow: bool, kind: char, major: i64, minor: i64, access: &str) -> DeviceRule {
        DeviceRule {
            allow,
            kind,
            major,
            minor,
            access: access.into(),
        }
    }

    /// The semantics, stated plainly: per asked bit, the last matching rule that lists it
    /// decides; undecided bits are allowed.
    fn model(rules: &[DeviceRule], kind: i32, major: u32, minor: u32, access: i32) -> bool {
        [ACC_MKNOD, ACC_READ, ACC_WRITE]
            .into_iter()
            .filter(|bit| access & bit != 0)
            .all(|bit| {
                let mut allowed = true;
                for r in rules {
                    let r = check(r).unwrap();
                    let hit = r.kind.is_none_or(|k| k == kind)
                        && r.major.is_none_or(|m| m == major)
                        && r.minor.is_none_or(|m| m == minor)
                        && r.access & bit != 0;
                    if hit {
                        allowed = r.allow;
                    }
                }
                allowed
            })
    }

    /// The program, loaded into rbpf's interpreter.
    fn vm(prog: &[Insn]) -> rbpf::EbpfVmRaw<'static> {
        let code: Vec<u8> = prog.iter().flat_map(Insn::encode).collect();
        rbpf::EbpfVmRaw::new(Some(Vec::leak(code))).expect("rbpf accepts the program")
    }

    /// Runs the program on one request.
    fn run_vm(vm: &rbpf::EbpfVmRaw<'_>, kind: i32, major: u32, minor: u32, access: i32) -> bool {
        let mut ctx = Vec::with_capacity(12);
        ctx.extend_from_slice(&(((access as u32) << 16) | kind as u32).to_ne_bytes());
        ctx.extend_from_slice(&major.to_ne_bytes());
        ctx.extend_from_slice(&minor.to_ne_bytes());
        match vm.execute_program(&mut ctx).expect("the program runs") {
            0 => false,
            1 => true,
            other => panic!("the program returned {other}"),
        }
    }

    fn run(prog: &[Insn], kind: i32, major: u32, minor: u32, access: i32) -> bool {
        run_vm(&vm(prog), kind, major, minor, access)
    }

    const REQUESTS: &[(i32, u32, u32)] = &[
        (DEV_CHAR, 1, 3),
        (DEV_CHAR, 1, 5),
        (DEV_CHAR, 5, 2),
        (DEV_CHAR, 136, 7),
        (DEV_CHAR, 10, 200),
        (DEV_BLOCK, 7, 0),
        (DEV_BLOCK, 7, 1),
        (DEV_BLOCK, 254, 0),
        (DEV_BLOCK, 1, 3),
        (DEV_CHAR, u32::MAX, 3),
    ];

    fn agrees_with_model(rules: &[DeviceRule]) {
        let vm = vm(&compile(rules).unwrap());
        for &(kind, major, minor) in REQUESTS {
            for access in 0..=ACC_ALL {
                assert_eq!(
                    run_vm(&vm, kind, major, minor, access),
                    model(rules, kind, major, minor, access),
                    "rules {:?}, request type {kind} {major}:{minor} access {access}",
                    rules.iter().map(DeviceRule::v1_line).collect::<Vec<_>>()
                );
            }
        }
    }

    #[writ_macros::verifies("config_linux.device_allowlist.order")]
    #[test]
    fn the_program_follows_the_rules_in_order() {
        // What engines send: deny all, then the devices the container is given.
        let podman = vec![
            rule(false, 'a', -1, -1, "rwm"),
            rule(true, 'c', 1, 3, "rwm"),
            rule(true, 'c', 136, -1, "rwm"),
            rule(true, 'b', 7, 0, "r"),
        ];
        agrees_with_model(&podman);
        let prog = compile(&podman).unwrap();
        assert!(run(&prog, DEV_CHAR, 1, 3, ACC_READ | ACC_WRITE));
        assert!(run(&prog, DEV_BLOCK, 7, 0, ACC_READ));
        assert!(!run(&prog, DEV_BLOCK, 7, 0, ACC_READ | ACC_WRITE));
        assert!(!run(&prog, DEV_BLOCK, 7, 1, ACC_READ));
        assert!(!run(&prog, DEV_BLOCK, 254, 0, ACC_MKNOD));
        // Later rules win, bit by bit; an allow list split over rules adds up.
        agrees_with_model(&[
            rule(false, 'a', -1, -1, "rwm"),
            rule(true, 'c', 1, 3, "r"),
            rule(true, 'c', 1, 3, "w"),
            rule(false, 'c', 1, -1, "w"),
            rule(true, 'c', -1, 3, "m"),
        ]);
        // Deny-list mode: everything but what is denied.
        agrees_with_model(&[rule(false, 'b', -1, -1, "rwm"), rule(true, 'b', 7, 0, "rw")]);
        agrees_with_model(&[rule(true, 'a', -1, -1, "rwm")]);
        agrees_with_model(&[rule(false, 'a', -1, -1, "rwm")]);
        agrees_with_model(&[]);
        // An "a" rule hides what comes before it; a huge major needs the register form.
        agrees_with_model(&[
            rule(true, 'b', 7, 1, "rwm"),
            rule(false, 'a', 5, 5, "r"),
            rule(true, 'c', i64::from(u32::MAX), -1, "rw"),
        ]);
    }

    #[test]
    fn random_rule_lists_agree_with_the_model() {
        let universe = [
            rule(false, 'a', -1, -1, "rwm"),
            rule(true, 'a', -1, -1, "rwm"),
            rule(true, 'c', 1, 3, "rwm"),
            rule(false, 'c', 1, 3, "w"),
            rule(true, 'c', 1, -1, "r"),
            rule(false, 'c', -1, 3, "m"),
            rule(true, 'b', 7, 0, "rw"),
            rule(false, 'b', 7, -1, "r"),
            rule(true, 'b', -1, -1, "m"),
            rule(false, 'c', 136, -1, "rwm"),
            rule(true, 'c', 5, 2, "rm"),
        ];
        // A fixed linear congruential sequence: the same lists on every run.
        let mut seed: u64 = 0x5eed;
        let mut next = |n: usize| {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (seed >> 33) as usize % n
        };
        for _ in 0..300 {
            let len = next(7);
            let rules: Vec<DeviceRule> = (0..len)
                .map(|_| universe[next(universe.len())].clone())
                .collect();
            agrees_with_model(&rules);
        }
    }

    #[test]
    fn the_instructions_are_the_expected_ones() {
        let prog = compile(&[rule(false, 'a', -1, -1, "rwm"), rule(true, 'b', 7, 0, "r")]).unwrap();
        let i = |code, dst, src, off, imm| Insn {
            code,
            dst,
            src,
            off,
            imm,
        };
        let want = vec![
            i(LDX_W, TYPE, R1, 0, 0),
            i(AND_K, TYPE, 0, 0, 0xffff),
            i(LDX_W, ACCESS, R1, 0, 0),
            i(RSH_K, ACCESS, 0, 0, 16),
            i(LDX_W, MAJOR, R1, 4, 0),
            i(LDX_W, MINOR, R1, 8, 0),
            i(JEQ_K, ACCESS, 0, 6, 0), // nothing asked: allow (at 13)
            // allow b 7:0 r (last rule, checked first)
            i(JNE_K, TYPE, 0, 4, DEV_BLOCK), // next rule at 12
            i(JNE_K, MAJOR, 0, 3, 7),
            i(JNE_K, MINOR, 0, 2, 0),
            i(AND_K, ACCESS, 0, 0, ACC_MKNOD | ACC_WRITE),
            i(JEQ_K, ACCESS, 0, 1, 0), // all decided: allow
            // deny a: everything left is refused
            i(JA, 0, 0, 2, 0), // deny (at 15)
            // allow
            i(MOV_K, R0, 0, 0, 1),
            i(EXIT, 0, 0, 0, 0),
            // deny
            i(MOV_K, R0, 0, 0, 0),
            i(EXIT, 0, 0, 0, 0),
        ];
        assert_eq!(prog.len(), want.len(), "{prog:?}");
        for (n, (got, want)) in prog.iter().zip(&want).enumerate() {
            assert_eq!(got, want, "instruction {n}");
        }
    }

    #[test]
    fn bad_rules_are_refused_naming_the_rule() {
        for (r, what) in [
            (rule(true, 'x', 1, 1, "r"), "unknown device type"),
            (rule(true, 'c', 1, 1, "rq"), "unknown access"),
            (
                rule(true, 'c', 1 << 33, 1, "r"),
                "major 8589934592 is out of range",
            ),
        ] {
            let e = compile(&[r]).unwrap_err().to_string();
            assert!(
                e.contains(what) && e.contains("/linux/resources/devices"),
                "{e}"
            );
        }
    }
}
