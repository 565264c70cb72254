//! The container plan: everything resolved from the config and checked against this host
//! before anything is touched. Plain data; built by `plan::build(&Spec, ...)`.

use std::collections::BTreeMap;
use std::path::PathBuf;

pub use crate::mounts::MountPlan;
pub use crate::namespaces::{NamespaceKind, NamespacePlan};

/// One hook to run (config.md#posix-platform-hooks).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct HookPlan {
    pub path: std::path::PathBuf,
    pub args: Vec<String>,
    pub env: Vec<String>,
    /// Seconds; `None` means no timeout.
    pub timeout: Option<u32>,
}

/// All hooks of the config, by lifecycle point.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct HooksPlan {
    pub prestart: Vec<HookPlan>,
    pub create_runtime: Vec<HookPlan>,
    pub create_container: Vec<HookPlan>,
    pub start_container: Vec<HookPlan>,
    pub poststart: Vec<HookPlan>,
    pub poststop: Vec<HookPlan>,
}

/// One uid/gid mapping line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IdMap {
    pub container_id: u32,
    pub host_id: u32,
    pub size: u32,
}

/// Renders mappings in the format of /proc/PID/uid_map.
pub fn id_map_text(maps: &[IdMap]) -> String {
    let mut s = String::new();
    for m in maps {
        s.push_str(&format!("{} {} {}\n", m.container_id, m.host_id, m.size));
    }
    s
}

/// A device node to create in the container's /dev.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DevicePlan {
    /// Absolute path inside the container.
    pub path: String,
    /// libc::S_IFCHR, S_IFBLK or S_IFIFO.
    pub kind: u32,
    pub major: u64,
    pub minor: u64,
    /// Permission bits only (0o777 mask applied).
    pub mode: u32,
    pub uid: u32,
    pub gid: u32,
}

/// A resource limit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RlimitPlan {
    /// The config's name, e.g. RLIMIT_NOFILE.
    pub name: String,
    pub resource: i32,
    pub soft: u64,
    pub hard: u64,
}

/// The five capability sets as bit masks (bit N = capability number N).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CapsPlan {
    pub bounding: u64,
    pub effective: u64,
    pub inheritable: u64,
    pub permitted: u64,
    pub ambient: u64,
}

/// process.scheduler.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SchedPlan {
    pub policy: u32,
    pub flags: u64,
    pub nice: i32,
    pub priority: u32,
    pub runtime: u64,
    pub deadline: u64,
    pub period: u64,
}

/// The user process (config.md#process).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ProcessPlan {
    pub args: Vec<String>,
    pub env: Vec<String>,
    /// Absolute, inside the container.
    pub cwd: String,
    pub uid: u32,
    pub gid: u32,
    pub umask: Option<u32>,
    pub additional_gids: Vec<u32>,
    pub rlimits: Vec<RlimitPlan>,
    pub no_new_privileges: bool,
    /// `None`: the config has no `capabilities` object (all sets end up empty for non-root).
    pub capabilities: Option<CapsPlan>,
    pub oom_score_adj: Option<i32>,
    pub apparmor_profile: Option<String>,
    pub selinux_label: Option<String>,
    /// (class, level).
    pub io_priority: Option<(u32, u32)>,
    pub scheduler: Option<SchedPlan>,
    /// CPU lists, e.g. "0-3,7".
    pub cpu_affinity_initial: Option<Vec<usize>>,
    pub cpu_affinity_final: Option<Vec<usize>>,
    /// consoleSize (rows, columns), used only with a terminal.
    pub console_size: Option<(u16, u16)>,
}

/// One device cgroup rule: (allow, "a"/"c"/"b", major, minor (-1 = any), access "rwm").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceRule {
    pub allow: bool,
    pub kind: char,
    pub major: i64,
    pub minor: i64,
    pub access: String,
}

impl DeviceRule {
    /// The line written to devices.allow / devices.deny (cgroup v1).
    pub fn v1_line(&self) -> String {
        let n = |v: i64| {
            if v < 0 {
                "*".to_string()
            } else {
                v.to_string()
            }
        };
        if self.kind == 'a' {
            return "a".to_string();
        }
        format!(
            "{} {}:{} {}",
            self.kind,
            n(self.major),
            n(self.minor),
            self.access
        )
    }
}

/// linux.resources as create (and update) applies it: the device rules resolved (a
/// default deny first, the config's rules in order, then the devices the container is
/// given), every other field as the config gives it. Each controller of `crate::cgroups`
/// reads its own fields and either writes them or says why it cannot.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ResourcesPlan {
    pub devices: Vec<DeviceRule>,
    pub memory: writ_spec::LinuxMemory,
    pub cpu: writ_spec::LinuxCpu,
    pub pids_limit: Option<i64>,
    pub block_io: writ_spec::LinuxBlockIo,
    pub hugepage_limits: Vec<writ_spec::LinuxHugepageLimit>,
    pub network: writ_spec::LinuxNetwork,
    pub rdma: BTreeMap<String, writ_spec::LinuxRdma>,
    pub unified: BTreeMap<String, String>,
}

/// linux.memoryPolicy, checked (config-linux.md#memory-policy): set_mempolicy(2)'s
/// mode with its flags, and the node mask.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemoryPolicyPlan {
    /// The `MPOL_*` mode or'ed with the `MPOL_F_*` flags.
    pub mode: i32,
    /// The mode's name, for messages.
    pub name: String,
    /// The node bit mask, 64 nodes a word; empty for no nodes.
    pub nodes: Vec<u64>,
}

/// `MPOL_PREFERRED_MANY` and `MPOL_WEIGHTED_INTERLEAVE` (Linux 5.15 and 6.9; not in libc).
const MPOL_PREFERRED_MANY: i32 = 5;
const MPOL_WEIGHTED_INTERLEAVE: i32 = 6;

/// The memory policy: every mode and flag of the spec (the features document lists them
/// all) mapped to set_mempolicy(2)'s numbers; what the kernel would refuse with a bare
/// EINVAL (nodes for a mode that takes none, none for one that needs some, flags that
/// exclude each other) is refused here naming the field.
#[writ_macros::requirement(
    "features_linux.memory_policy.modes.recognised",
    "features_linux.memory_policy.flags.recognised"
)]
pub fn memory_policy_plan(p: &writ_spec::MemoryPolicy) -> Result<MemoryPolicyPlan, PlanError> {
    use writ_spec::{MemoryPolicyFlag as F, MemoryPolicyMode as M};
    const AT: &str = "/linux/memoryPolicy";
    let Some(mode) = p.mode else {
        return Err(invalid(
            format!("{AT}/mode"),
            "a memory policy needs a mode [config_linux.memory_policy.mode.required]",
        ));
    };
    let (number, nodes_needed) = match mode {
        M::MpolDefault => (libc::MPOL_DEFAULT, Some(false)),
        M::MpolLocal => (libc::MPOL_LOCAL, Some(false)),
        M::MpolPreferred => (libc::MPOL_PREFERRED, None),
        M::MpolBind => (libc::MPOL_BIND, Some(true)),
        M::MpolInterleave => (libc::MPOL_INTERLEAVE, Some(true)),
        M::MpolWeightedInterleave => (MPOL_WEIGHTED_INTERLEAVE, Some(true)),
        M::MpolPreferredMany => (MPOL_PREFERRED_MANY, Some(true)),
        other => return Err(unsupported(format!("{AT}/mode"), other)),
    };
    let text = p.nodes.as_deref().unwrap_or("").trim();
    let list = if text.is_empty() {
        Vec::new()
    } else {
        parse_cpu_list(text).ok_or_else(|| {
            invalid(
                format!("{AT}/nodes"),
                format!("{text:?} is not a node list such as \"0-3,7\""),
            )
        })?
    };
    match nodes_needed {
        Some(false) if !list.is_empty() => {
            return Err(invalid(
                format!("{AT}/nodes"),
                format!("{mode} takes no nodes"),
            ));
        }
        Some(true) if list.is_empty() => {
            return Err(invalid(
                format!("{AT}/nodes"),
                format!("{mode} needs at least one node"),
            ));
        }
        _ => {}
    }
    let flags = p.flags.as_deref().unwrap_or(&[]);
    if flags.contains(&F::MpolFStaticNodes) && flags.contains(&F::MpolFRelativeNodes) {
        return Err(invalid(
            format!("{AT}/flags"),
            "MPOL_F_STATIC_NODES and MPOL_F_RELATIVE_NODES exclude each other",
        ));
    }
    if flags.contains(&F::MpolFNumaBalancing) && !matches!(mode, M::MpolBind | M::MpolPreferredMany)
    {
        return Err(invalid(
            format!("{AT}/flags"),
            format!("MPOL_F_NUMA_BALANCING goes with MPOL_BIND or MPOL_PREFERRED_MANY, not {mode}"),
        ));
    }
    let mut flag_bits = 0;
    for f in flags {
        flag_bits |= match f {
            F::MpolFNumaBalancing => libc::MPOL_F_NUMA_BALANCING,
            F::MpolFRelativeNodes => libc::MPOL_F_RELATIVE_NODES,
            F::MpolFStaticNodes => libc::MPOL_F_STATIC_NODES,
            other => return Err(unsupported(format!("{AT}/flags"), other)),
        };
    }
    let mut nodes = Vec::new();
    for n in list {
        let (word, bit) = (n / 64, n % 64);
        if nodes.len() <= word {
            nodes.resize(word + 1, 0u64);
        }
        nodes[word] |= 1 << bit;
    }
    Ok(MemoryPolicyPlan {
        mode: number | flag_bits,
        name: mode.to_string(),
        nodes,
    })
}

/// A timeOffsets entry: clock name ("monotonic" or "boottime"), seconds, nanoseconds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimeOffset {
    pub clock: String,
    pub secs: i64,
    pub nanosecs: u32,
}

/// Everything `container::create` needs, checked.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ContainerPlan {
    pub oci_version: String,
    /// Absolute rootfs path on the host.
    pub rootfs: PathBuf,
    pub root_readonly: bool,
    pub hostname: Option<String>,
    pub domainname: Option<String>,
    pub process: ProcessPlan,
    pub terminal: bool,
    pub mounts: Vec<MountPlan>,
    pub namespaces: Vec<NamespacePlan>,
    pub uid_mappings: Vec<IdMap>,
    pub gid_mappings: Vec<IdMap>,
    pub time_offsets: Vec<TimeOffset>,
    pub devices: Vec<DevicePlan>,
    pub sysctl: BTreeMap<String, String>,
    pub masked_paths: Vec<String>,
    pub readonly_paths: Vec<String>,
    /// MS_* propagation flags for the rootfs (rootfsPropagation), e.g. MS_SLAVE|MS_REC.
    pub rootfs_propagation: Option<u64>,
    pub cgroups_path: Option<String>,
    pub resources: ResourcesPlan,
    /// PER_LINUX / PER_LINUX32 plus flags.
    pub personality: Option<u64>,
    /// linux.memoryPolicy, set in the container process before the exec.
    pub memory_policy: Option<MemoryPolicyPlan>,
    /// linux.intelRdt as the config gives it (checked by validate; applied by resctrl.rs).
    pub intel_rdt: Option<writ_spec::IntelRdt>,
    /// Host interfaces to move into the container's network namespace.
    pub net_devices: Vec<crate::netdev::NetDevicePlan>,
    /// The seccomp profile, checked (compiled by create).
    pub seccomp: Option<writ_spec::Seccomp>,
    pub hooks: HooksPlan,
    pub annotations: BTreeMap<String, String>,
    /// Non-fatal findings (e.g. unknown capability names), printed by create.
    pub warnings: Vec<String>,
}

impl ContainerPlan {
    /// The namespace of this kind, if the config lists one.
    pub fn namespace(&self, kind: NamespaceKind) -> Option<&NamespacePlan> {
        self.namespaces.iter().find(|n| n.kind == kind)
    }
}

/// Why a config cannot become a plan. Nothing has been touched when this is returned.
#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    #[error("{pointer}: {message}")]
    Invalid { pointer: String, message: String },
}

/// A value of a spec enum this writ does not implement (one a later release of the spec
/// added; the enums are `#[non_exhaustive]`).
fn unsupported(pointer: impl Into<String>, value: impl std::fmt::Display) -> PlanError {
    invalid(
        pointer,
        format!(
            "{value:?} is not supported by this writ",
            value = value.to_string()
        ),
    )
}

pub(crate) fn invalid(pointer: impl Into<String>, message: impl Into<String>) -> PlanError {
    PlanError::Invalid {
        pointer: pointer.into(),
        message: message.into(),
    }
}

/// Parses a CPU list such as "0-3,7" into CPU numbers.
pub fn parse_cpu_list(s: &str) -> Option<Vec<usize>> {
    let mut out = Vec::new();
    for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        match part.split_once('-') {
            Some((a, b)) => {
                let (a, b): (usize, usize) = (a.trim().parse().ok()?, b.trim().parse().ok()?);
                if a > b || b > 8192 {
                    return None;
                }
                out.extend(a..=b);
            }
            None => {
                let n: usize = part.parse().ok()?;
                if n > 8192 {
                    return None;
                }
                out.push(n);
            }
        }
    }
    if out.is_empty() {
        None
    } else {
        Some(out)
    }
}

/// Capability number for a name like "CAP_SYS_ADMIN" (case-insensitive, prefix optional).
pub fn cap_number(name: &str) -> Option<u32> {
    writ_spec::rules::capability_number(name)
}

/// Rlimit resource number for a config name like "RLIMIT_NOFILE".
pub fn rlimit_number(name: &str) -> Option<i32> {
    let r = match name {
        "RLIMIT_CPU" => libc::RLIMIT_CPU,
        "RLIMIT_FSIZE" => libc::RLIMIT_FSIZE,
        "RLIMIT_DATA" => libc::RLIMIT_DATA,
        "RLIMIT_STACK" => libc::RLIMIT_STACK,
        "RLIMIT_CORE" => libc::RLIMIT_CORE,
        "RLIMIT_RSS" => libc::RLIMIT_RSS,
        "RLIMIT_NPROC" => libc::RLIMIT_NPROC,
        "RLIMIT_NOFILE" => libc::RLIMIT_NOFILE,
        "RLIMIT_MEMLOCK" => libc::RLIMIT_MEMLOCK,
        "RLIMIT_AS" => libc::RLIMIT_AS,
        "RLIMIT_LOCKS" => libc::RLIMIT_LOCKS,
        "RLIMIT_SIGPENDING" => libc::RLIMIT_SIGPENDING,
        "RLIMIT_MSGQUEUE" => libc::RLIMIT_MSGQUEUE,
        "RLIMIT_NICE" => libc::RLIMIT_NICE,
        "RLIMIT_RTPRIO" => libc::RLIMIT_RTPRIO,
        "RLIMIT_RTTIME" => libc::RLIMIT_RTTIME,
        _ => return None,
    };
    Some(r as i32)
}

fn hooks_of(list: &Option<Vec<writ_spec::Hook>>, name: &str) -> Result<Vec<HookPlan>, PlanError> {
    let mut out = Vec::new();
    for (i, h) in list.iter().flatten().enumerate() {
        let ptr = format!("/hooks/{name}/{i}");
        if !h.path.starts_with('/') {
            return Err(invalid(
                format!("{ptr}/path"),
                format!("{:?} is not an absolute path", h.path),
            ));
        }
        let timeout = match h.timeout {
            None => None,
            Some(t) if t > 0 && t <= u32::MAX as i64 => Some(t as u32),
            Some(t) => {
                return Err(invalid(
                    format!("{ptr}/timeout"),
                    format!("{t} is not a positive number of seconds"),
                ))
            }
        };
        out.push(HookPlan {
            path: PathBuf::from(&h.path),
            args: h.args.clone().unwrap_or_default(),
            env: h.env.clone().unwrap_or_default(),
            timeout,
        });
    }
    Ok(out)
}

fn id_maps(v: &Option<Vec<writ_spec::IdMapping>>) -> Vec<IdMap> {
    v.iter()
        .flatten()
        .map(|m| IdMap {
            container_id: m.container_id,
            host_id: m.host_id,
            size: m.size,
        })
        .collect()
}

fn caps_of(c: &writ_spec::LinuxCapabilities, warnings: &mut Vec<String>) -> CapsPlan {
    let last = crate::sys::cap_last_cap();
    let mut set = |list: &Option<Vec<String>>, which: &str| -> u64 {
        let mut bits = 0u64;
        for name in list.iter().flatten() {
            match cap_number(name) {
                Some(n) if n <= last => bits |= 1u64 << n,
                // A name Linux does not define is writ-spec's warning, which create logs.
                None => {}
                Some(_) => warnings.push(format!(
                    "process.capabilities.{which}: capability {name:?} is unknown to this \
                     host's kernel: not granted"
                )),
            }
        }
        bits
    };
    CapsPlan {
        bounding: set(&c.bounding, "bounding"),
        effective: set(&c.effective, "effective"),
        inheritable: set(&c.inheritable, "inheritable"),
        permitted: set(&c.permitted, "permitted"),
        ambient: set(&c.ambient, "ambient"),
    }
}

#[writ_macros::requirement("config.process.console_size.ignored")]
fn process_of(
    p: &writ_spec::Process,
    warnings: &mut Vec<String>,
) -> Result<ProcessPlan, PlanError> {
    use writ_spec::{IoPriorityClass, SchedulerFlag, SchedulerPolicy};
    let args = p.args.clone().unwrap_or_default();
    if args.is_empty() {
        return Err(invalid(
            "/process/args",
            "must name the program to run (at least one entry)",
        ));
    }
    if !p.cwd.starts_with('/') {
        return Err(invalid(
            "/process/cwd",
            format!("{:?} is not an absolute path", p.cwd),
        ));
    }
    let user = p.user.clone().unwrap_or_default();
    let mut rlimits: Vec<RlimitPlan> = Vec::new();
    for (i, r) in p.rlimits.iter().flatten().enumerate() {
        let ptr = format!("/process/rlimits/{i}");
        let Some(resource) = rlimit_number(&r.type_) else {
            return Err(invalid(
                format!("{ptr}/type"),
                format!("unknown rlimit {:?}", r.type_),
            ));
        };
        if rlimits.iter().any(|x| x.resource == resource) {
            return Err(invalid(
                format!("{ptr}/type"),
                format!("{} is listed twice", r.type_),
            ));
        }
        if r.soft > r.hard {
            return Err(invalid(
                ptr,
                format!(
                    "{}: soft limit {} exceeds hard limit {}",
                    r.type_, r.soft, r.hard
                ),
            ));
        }
        rlimits.push(RlimitPlan {
            name: r.type_.clone(),
            resource,
            soft: r.soft,
            hard: r.hard,
        });
    }
    let oom_score_adj = match p.oom_score_adj {
        None => None,
        Some(v) if (-1000..=1000).contains(&v) => Some(v as i32),
        Some(v) => {
            return Err(invalid(
                "/process/oomScoreAdj",
                format!("{v} is outside -1000..1000"),
            ))
        }
    };
    let io_priority = match &p.io_priority {
        None => None,
        Some(io) => {
            let class = match io.class {
                IoPriorityClass::IoprioClassRt => 1,
                IoPriorityClass::IoprioClassBe => 2,
                IoPriorityClass::IoprioClassIdle => 3,
                other => return Err(unsupported("/process/ioPriority/class", other)),
            };
            let prio = io.priority.unwrap_or(0);
            if !(0..=7).contains(&prio) {
                return Err(invalid(
                    "/process/ioPriority/priority",
                    format!("{prio} is outside 0..7"),
                ));
            }
            Some((class, prio as u32))
        }
    };
    let scheduler = match &p.scheduler {
        None => None,
        Some(s) => {
            let policy = match s.policy {
                SchedulerPolicy::SchedOther => 0,
                SchedulerPolicy::SchedFifo => 1,
                SchedulerPolicy::SchedRr => 2,
                SchedulerPolicy::SchedBatch => 3,
                SchedulerPolicy::SchedIso => 4,
                SchedulerPolicy::SchedIdle => 5,
                SchedulerPolicy::SchedDeadline => 6,
                other => return Err(unsupported("/process/scheduler/policy", other)),
            };
            let mut flags = 0u64;
            for f in s.flags.iter().flatten() {
                flags |= match f {
                    SchedulerFlag::SchedFlagResetOnFork => 0x01,
                    SchedulerFlag::SchedFlagReclaim => 0x02,
                    SchedulerFlag::SchedFlagDlOverrun => 0x04,
                    SchedulerFlag::SchedFlagKeepPolicy => 0x08,
                    SchedulerFlag::SchedFlagKeepParams => 0x10,
                    SchedulerFlag::SchedFlagUtilClampMin => 0x20,
                    SchedulerFlag::SchedFlagUtilClampMax => 0x40,
                    other => return Err(unsupported("/process/scheduler/flags", other)),
                };
            }
            let nice = s.nice.unwrap_or(0);
            if !(-20..=19).contains(&nice) {
                return Err(invalid(
                    "/process/scheduler/nice",
                    format!("{nice} is outside -20..19"),
                ));
            }
            let priority = s.priority.unwrap_or(0);
            if priority < 0 {
                return Err(invalid(
                    "/process/scheduler/priority",
                    "must not be negative",
                ));
            }
            Some(SchedPlan {
                policy,
                flags,
                nice,
                priority: priority as u32,
                runtime: s.runtime.unwrap_or(0),
                deadline: s.deadline.unwrap_or(0),
                period: s.period.unwrap_or(0),
            })
        }
    };
    let affinity = |v: &Option<String>, which: &str| -> Result<Option<Vec<usize>>, PlanError> {
        match v {
            None => Ok(None),
            Some(s) => parse_cpu_list(s).map(Some).ok_or_else(|| {
                invalid(
                    format!("/process/execCPUAffinity/{which}"),
                    format!("{s:?} is not a CPU list"),
                )
            }),
        }
    };
    let (cpu_affinity_initial, cpu_affinity_final) = match &p.exec_cpu_affinity {
        None => (None, None),
        Some(a) => (
            affinity(&a.initial, "initial")?,
            affinity(&a.final_, "final")?,
        ),
    };
    let plan = ProcessPlan {
        args,
        env: p.env.clone().unwrap_or_default(),
        cwd: p.cwd.clone(),
        uid: user.uid.unwrap_or(0),
        gid: user.gid.unwrap_or(0),
        umask: user.umask,
        additional_gids: user.additional_gids.clone().unwrap_or_default(),
        rlimits,
        no_new_privileges: p.no_new_privileges.unwrap_or(false),
        capabilities: p.capabilities.as_ref().map(|c| caps_of(c, warnings)),
        oom_score_adj,
        apparmor_profile: p.apparmor_profile.clone().filter(|s| !s.is_empty()),
        selinux_label: p.selinux_label.clone().filter(|s| !s.is_empty()),
        io_priority,
        scheduler,
        cpu_affinity_initial,
        cpu_affinity_final,
        console_size: match (&p.console_size, p.terminal) {
            (Some(c), Some(true)) => Some((
                u16::try_from(c.height).unwrap_or(u16::MAX),
                u16::try_from(c.width).unwrap_or(u16::MAX),
            )),
            _ => None,
        },
    };
    crate::process::check_lsm(&plan).map_err(|m| {
        let ptr = if plan.apparmor_profile.is_some() && !crate::process::apparmor_enabled() {
            "/process/apparmorProfile"
        } else {
            "/process/selinuxLabel"
        };
        invalid(ptr, m)
    })?;
    Ok(plan)
}

fn device_of(d: &writ_spec::LinuxDevice, i: usize) -> Result<DevicePlan, PlanError> {
    let ptr = format!("/linux/devices/{i}");
    if !d.path.starts_with('/') {
        return Err(invalid(
            format!("{ptr}/path"),
            format!("{:?} is not an absolute path", d.path),
        ));
    }
    let kind = match d.type_.as_str() {
        "c" | "u" => libc::S_IFCHR,
        "b" => libc::S_IFBLK,
        "p" => libc::S_IFIFO,
        t => {
            return Err(invalid(
                format!("{ptr}/type"),
                format!("unknown device type {t:?} (c, u, b or p)"),
            ))
        }
    };
    let num = |v: Option<i64>, f: &str| -> Result<u64, PlanError> {
        match v {
            Some(n) if n >= 0 => Ok(n as u64),
            Some(n) => Err(invalid(format!("{ptr}/{f}"), format!("{n} is negative"))),
            None if kind == libc::S_IFIFO => Ok(0),
            None => Err(invalid(
                format!("{ptr}/{f}"),
                "is required for this device type",
            )),
        }
    };
    Ok(DevicePlan {
        path: d.path.clone(),
        kind,
        major: num(d.major, "major")?,
        minor: num(d.minor, "minor")?,
        // podman sends S_IFCHR bits too (8630 = 0o20666): keep the permission bits.
        mode: d.file_mode.unwrap_or(0o666) & 0o777,
        uid: d.uid.unwrap_or(0),
        gid: d.gid.unwrap_or(0),
    })
}

fn resources_of(r: &writ_spec::LinuxResources) -> ResourcesPlan {
    let devices = r
        .devices
        .iter()
        .flatten()
        .map(|d| DeviceRule {
            allow: d.allow,
            kind: d
                .type_
                .as_deref()
                .and_then(|t| t.chars().next())
                .unwrap_or('a'),
            major: d.major.unwrap_or(-1),
            minor: d.minor.unwrap_or(-1),
            access: d.access.clone().unwrap_or_else(|| "rwm".into()),
        })
        .collect();
    ResourcesPlan {
        devices,
        memory: r.memory.clone().unwrap_or_default(),
        cpu: r.cpu.clone().unwrap_or_default(),
        pids_limit: r.pids.as_ref().map(|p| p.limit),
        block_io: r.block_io.clone().unwrap_or_default(),
        hugepage_limits: r.hugepage_limits.clone().unwrap_or_default(),
        network: r.network.clone().unwrap_or_default(),
        rdma: r.rdma.clone().unwrap_or_default(),
        unified: r.unified.clone().unwrap_or_default(),
    }
}

/// The resources, with the device rules complete: every device denied first (the
/// container reaches only the devices it lists and the default ones, as runc), then the
/// config's rules in order, then allowances for the devices the container is given and
/// for ptys, which stay usable whatever the rules say.
#[writ_macros::requirement("config_linux.devices.unlisted_access")]
fn resources_plan(
    resources: Option<&writ_spec::LinuxResources>,
    devices: &[DevicePlan],
) -> ResourcesPlan {
    let mut plan = resources.map(resources_of).unwrap_or_default();
    let rule = |allow, kind, major, minor| DeviceRule {
        allow,
        kind,
        major,
        minor,
        access: "rwm".into(),
    };
    let given = crate::devices::with_defaults(devices);
    let given = given.iter().filter(|d| d.kind != libc::S_IFIFO).map(|d| {
        let kind = if d.kind == libc::S_IFBLK { 'b' } else { 'c' };
        rule(true, kind, d.major as i64, d.minor as i64)
    });
    let ptys = [(5, 2), (136, -1), (5, 1)].map(|(major, minor)| rule(true, 'c', major, minor));
    plan.devices = std::iter::once(rule(false, 'a', -1, -1))
        .chain(std::mem::take(&mut plan.devices))
        .chain(given)
        .chain(ptys)
        .collect();
    plan
}

fn check_container_path(p: &str, ptr: String) -> Result<(), PlanError> {
    if !p.starts_with('/') {
        return Err(invalid(ptr, format!("{p:?} is not an absolute path")));
    }
    Ok(())
}

/// Builds the plan from a parsed config. `bundle` is the absolute bundle directory.
/// Checks everything it can without touching the host.
#[writ_macros::requirement(
    "config.process.cwd.absolute",
    "config.process.args.non_empty",
    "config.process.rlimits.type.unknown",
    "config.process.rlimits.type.getrlimit",
    "config.process.rlimits.duplicate",
    "config.process.capabilities.unknown_warn",
    "config.process.capabilities.ungrantable_ok",
    "config.process.io_priority.priority.required",
    "config_linux.namespaces.duplicate_type",
    "config_linux.masked_paths.absolute",
    "config_linux.readonly_paths.absolute",
    "config.hooks.prestart.path.absolute",
    "config.hooks.create_runtime.path.absolute",
    "config.root.required",
    "config_linux.devices.major_minor.required",
    "config.process.required_at_start",
    "runtime.start.no_process"
)]
pub fn build(spec: &writ_spec::Spec, bundle: &std::path::Path) -> Result<ContainerPlan, PlanError> {
    use writ_spec::{LinuxNamespaceType as T, PersonalityDomain, RootfsPropagation};
    let mut warnings = Vec::new();
    let root = spec
        .root
        .as_ref()
        .ok_or_else(|| invalid("/root", "is required on Linux"))?;
    let rootfs = if root.path.starts_with('/') {
        PathBuf::from(&root.path)
    } else {
        bundle.join(&root.path)
    };
    if !rootfs.is_dir() {
        return Err(invalid(
            "/root/path",
            format!("{} is not a directory", rootfs.display()),
        ));
    }
    let process = spec
        .process
        .as_ref()
        .ok_or_else(|| invalid("/process", "is required to create a container"))?;
    let process_plan = process_of(process, &mut warnings)?;
    let linux = spec.linux.clone().unwrap_or_default();

    let mut namespaces: Vec<NamespacePlan> = Vec::new();
    for (i, ns) in linux.namespaces.iter().flatten().enumerate() {
        let kind = match ns.type_ {
            T::Mount => NamespaceKind::Mount,
            T::Pid => NamespaceKind::Pid,
            T::Network => NamespaceKind::Network,
            T::Uts => NamespaceKind::Uts,
            T::Ipc => NamespaceKind::Ipc,
            T::User => NamespaceKind::User,
            T::Cgroup => NamespaceKind::Cgroup,
            T::Time => NamespaceKind::Time,
            other => return Err(unsupported(format!("/linux/namespaces/{i}/type"), other)),
        };
        let ptr = format!("/linux/namespaces/{i}");
        if namespaces.iter().any(|n| n.kind == kind) {
            return Err(invalid(
                format!("{ptr}/type"),
                format!("namespace type {} is listed twice", kind.config_name()),
            ));
        }
        let path = match ns.path.as_deref() {
            None | Some("") => None,
            Some(p) if p.starts_with('/') => Some(PathBuf::from(p)),
            Some(p) => {
                return Err(invalid(
                    format!("{ptr}/path"),
                    format!("{p:?} is not an absolute path"),
                ))
            }
        };
        namespaces.push(NamespacePlan { kind, path });
    }
    let ns = |k: NamespaceKind| namespaces.iter().find(|n| n.kind == k);
    let new_ns = |k: NamespaceKind| ns(k).is_some_and(|n| n.path.is_none());
    match ns(NamespaceKind::Mount) {
        Some(n) if n.path.is_none() => {}
        Some(_) => {
            return Err(invalid(
                "/linux/namespaces",
                "joining an existing mount namespace is not supported; the rootfs needs a new one",
            ))
        }
        None => {
            return Err(invalid(
                "/linux/namespaces",
                "a new mount namespace is required to set up the rootfs",
            ))
        }
    }
    let uid_mappings = id_maps(&linux.uid_mappings);
    let gid_mappings = id_maps(&linux.gid_mappings);
    if new_ns(NamespaceKind::User) && (uid_mappings.is_empty() || gid_mappings.is_empty()) {
        return Err(invalid(
            "/linux/uidMappings",
            "a new user namespace needs uidMappings and gidMappings",
        ));
    }
    if ns(NamespaceKind::User).is_none() && (!uid_mappings.is_empty() || !gid_mappings.is_empty()) {
        return Err(invalid(
            "/linux/uidMappings",
            "id mappings are given but there is no user namespace",
        ));
    }
    if spec.hostname.as_deref().is_some_and(|h| !h.is_empty()) && !new_ns(NamespaceKind::Uts) {
        return Err(invalid(
            "/hostname",
            "setting the hostname needs a new uts namespace",
        ));
    }
    if spec.domainname.as_deref().is_some_and(|h| !h.is_empty()) && !new_ns(NamespaceKind::Uts) {
        return Err(invalid(
            "/domainname",
            "setting the domainname needs a new uts namespace",
        ));
    }
    let mut time_offsets = Vec::new();
    if let Some(t) = &linux.time_offsets {
        for (clock, o) in [("monotonic", &t.monotonic), ("boottime", &t.boottime)] {
            if let Some(o) = o {
                time_offsets.push(TimeOffset {
                    clock: clock.to_string(),
                    secs: o.secs.unwrap_or(0),
                    nanosecs: o.nanosecs.unwrap_or(0),
                });
            }
        }
        if !time_offsets.is_empty() && !new_ns(NamespaceKind::Time) {
            return Err(invalid(
                "/linux/timeOffsets",
                "time offsets need a new time namespace",
            ));
        }
    }

    let mut mounts = Vec::new();
    for (i, m) in spec.mounts.iter().flatten().enumerate() {
        let mp = crate::mounts::plan_mount(
            &m.destination,
            m.type_.as_deref(),
            m.source.as_deref(),
            m.options.as_deref().unwrap_or(&[]),
            id_maps(&m.uid_mappings),
            id_maps(&m.gid_mappings),
            bundle,
        )
        .map_err(|e| invalid(format!("/mounts/{i}"), e))?;
        mounts.push(mp);
    }

    let has_userns_maps = !uid_mappings.is_empty();
    for (i, m) in mounts.iter().enumerate() {
        if let Some(idm) = &m.idmap {
            if idm.uid.is_empty() && !has_userns_maps {
                return Err(invalid(
                    format!("/mounts/{i}"),
                    "an idmapped mount needs uidMappings/gidMappings on the mount or a user namespace with mappings",
                ));
            }
        }
    }

    let mut devices = Vec::new();
    for (i, d) in linux.devices.iter().flatten().enumerate() {
        devices.push(device_of(d, i)?);
    }

    let sysctl = linux.sysctl.clone().unwrap_or_default();
    for k in sysctl.keys() {
        let ok = !k.is_empty()
            && k.chars()
                .all(|c| c.is_ascii_alphanumeric() || "._-/".contains(c))
            && !k.split(['.', '/']).any(|c| c.is_empty() || c == "..");
        if !ok {
            return Err(invalid(
                format!("/linux/sysctl/{k}"),
                "is not a valid sysctl name",
            ));
        }
    }
    let masked_paths = linux.masked_paths.clone().unwrap_or_default();
    for (i, p) in masked_paths.iter().enumerate() {
        check_container_path(p, format!("/linux/maskedPaths/{i}"))?;
    }
    let readonly_paths = linux.readonly_paths.clone().unwrap_or_default();
    for (i, p) in readonly_paths.iter().enumerate() {
        check_container_path(p, format!("/linux/readonlyPaths/{i}"))?;
    }
    let rootfs_propagation = match linux.rootfs_propagation {
        None => None,
        Some(p) => Some(
            libc::MS_REC
                | match p {
                    // The r* values are runc's (outside the schema; containerd's CRI writes
                    // "rshared" and "rslave"): the same propagation, applied recursively.
                    RootfsPropagation::Private | RootfsPropagation::Rprivate => libc::MS_PRIVATE,
                    RootfsPropagation::Shared | RootfsPropagation::Rshared => libc::MS_SHARED,
                    RootfsPropagation::Slave | RootfsPropagation::Rslave => libc::MS_SLAVE,
                    RootfsPropagation::Unbindable | RootfsPropagation::Runbindable => {
                        libc::MS_UNBINDABLE
                    }
                    other => return Err(unsupported("/linux/rootfsPropagation", other)),
                },
        ),
    };
    let personality = match &linux.personality {
        None => None,
        Some(p) => {
            if p.flags.as_ref().is_some_and(|f| !f.is_empty()) {
                warnings.push("linux.personality.flags are not supported and were ignored".into());
            }
            Some(match p.domain {
                Some(PersonalityDomain::Linux32) => 0x0008,
                _ => 0x0000,
            })
        }
    };
    let memory_policy = linux
        .memory_policy
        .as_ref()
        .map(memory_policy_plan)
        .transpose()?;
    let mut net_devices = Vec::new();
    for (host, d) in linux.net_devices.iter().flatten() {
        let ptr = format!("/linux/netDevices/{host}");
        let name = d
            .name
            .clone()
            .filter(|n| !n.is_empty())
            .unwrap_or_else(|| host.clone());
        if name.len() > 15 || name.contains('/') || name.chars().any(char::is_whitespace) {
            return Err(invalid(
                format!("{ptr}/name"),
                format!("{name:?} is not a valid interface name"),
            ));
        }
        if ns(NamespaceKind::Network).is_none() {
            return Err(invalid(
                ptr,
                "moving an interface needs a network namespace",
            ));
        }
        if new_ns(NamespaceKind::User) || ns(NamespaceKind::User).is_some() {
            return Err(invalid(
                ptr,
                "moving interfaces into a container with a user namespace is not supported by writ",
            ));
        }
        net_devices.push(crate::netdev::NetDevicePlan {
            host: host.clone(),
            name,
        });
    }
    if let Some(s) = &linux.seccomp {
        crate::seccomp::check(s).map_err(|(ptr, msg)| invalid(ptr, msg))?;
    }
    let hooks = match &spec.hooks {
        None => HooksPlan::default(),
        Some(h) => HooksPlan {
            prestart: hooks_of(&h.prestart, "prestart")?,
            create_runtime: hooks_of(&h.create_runtime, "createRuntime")?,
            create_container: hooks_of(&h.create_container, "createContainer")?,
            start_container: hooks_of(&h.start_container, "startContainer")?,
            poststart: hooks_of(&h.poststart, "poststart")?,
            poststop: hooks_of(&h.poststop, "poststop")?,
        },
    };
    let resources = resources_plan(linux.resources.as_ref(), &devices);
    Ok(ContainerPlan {
        oci_version: spec.oci_version.clone(),
        rootfs,
        root_readonly: root.readonly.unwrap_or(false),
        hostname: spec.hostname.clone().filter(|h| !h.is_empty()),
        domainname: spec.domainname.clone().filter(|h| !h.is_empty()),
        terminal: process.terminal.unwrap_or(false),
        process: process_plan,
        mounts,
        namespaces,
        uid_mappings,
        gid_mappings,
        time_offsets,
        devices,
        sysctl,
        masked_paths,
        readonly_paths,
        rootfs_propagation,
        cgroups_path: linux.cgroups_path.clone().filter(|p| !p.is_empty()),
        resources,
        personality,
        memory_policy,
        intel_rdt: linux.intel_rdt.clone(),
        seccomp: linux.seccomp.clone(),
        net_devices,
        hooks,
        annotations: spec.annotations.clone().unwrap_or_default(),
        warnings,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_lists_parse() {
        assert_eq!(parse_cpu_list("0-2,7"), Some(vec![0, 1, 2, 7]));
        assert_eq!(parse_cpu_list("3"), Some(vec![3]));
        assert_eq!(parse_cpu_list("2-1"), None);
        assert_eq!(parse_cpu_list("x"), None);
        assert_eq!(parse_cpu_list(""), None);
    }

    #[test]
    fn capability_names_map_to_kernel_numbers() {
        assert_eq!(cap_number("CAP_CHOWN"), Some(0));
        assert_eq!(cap_number("CAP_SYS_ADMIN"), Some(21));
        assert_eq!(cap_number("cap_net_raw"), Some(13));
        assert_eq!(cap_number("CAP_CHECKPOINT_RESTORE"), Some(40));
        assert_eq!(cap_number("CAP_NOPE"), None);
    }

    #[test]
    fn id_maps_render_like_proc() {
        let m = [
            IdMap {
                container_id: 0,
                host_id: 1000,
                size: 1,
            },
            IdMap {
                container_id: 1,
                host_id: 100000,
                size: 65536,
            },
        ];
        assert_eq!(id_map_text(&m), "0 1000 1\n1 100000 65536\n");
    }
}

#[cfg(test)]
mod build_tests {
    use super::*;
    use serde_json::json;

    fn bundle() -> tempfile::TempDir {
        let d = tempfile::tempdir().unwrap();
        std::fs::create_dir(d.path().join("rootfs")).unwrap();
        d
    }

    fn base() -> serde_json::Value {
        json!({
            "ociVersion": "1.3.0",
            "root": {"path": "rootfs"},
            "process": {"cwd": "/", "args": ["sh"], "user": {"uid": 0, "gid": 0}},
            "linux": {"namespaces": [{"type": "mount"}, {"type": "pid"}]}
        })
    }

    fn build_json(v: serde_json::Value, b: &std::path::Path) -> Result<ContainerPlan, PlanError> {
        let spec: writ_spec::Spec = serde_json::from_value(v).unwrap();
        build(&spec, b)
    }

    fn err_of(v: serde_json::Value, b: &std::path::Path) -> String {
        build_json(v, b).unwrap_err().to_string()
    }

    /// A change to a config, for table-driven tests.
    type Edit = Box<dyn Fn(&mut serde_json::Value)>;

    #[test]
    fn runc_recursive_rootfs_propagation_values_map_to_recursive_flags() {
        let b = bundle();
        for (value, flag) in [
            ("rprivate", libc::MS_PRIVATE),
            ("rshared", libc::MS_SHARED),
            ("rslave", libc::MS_SLAVE),
            ("runbindable", libc::MS_UNBINDABLE),
        ] {
            let mut v = base();
            v["linux"]["rootfsPropagation"] = json!(value);
            let p = build_json(v, b.path()).unwrap();
            assert_eq!(p.rootfs_propagation, Some(flag | libc::MS_REC), "{value}");
        }
    }

    #[test]
    fn minimal_config_builds() {
        let b = bundle();
        let p = build_json(base(), b.path()).unwrap();
        assert_eq!(p.rootfs, b.path().join("rootfs"));
        assert_eq!(p.process.args, vec!["sh"]);
        assert!(p
            .namespace(NamespaceKind::Pid)
            .is_some_and(|n| n.path.is_none()));
        assert!(p.namespace(NamespaceKind::Network).is_none());
        assert!(!p.terminal);
    }

    #[writ_macros::verifies("config_linux.devices.major_minor.required")]
    #[test]
    fn podman_device_file_mode_with_type_bits_is_accepted() {
        let b = bundle();
        let mut v = base();
        v["linux"]["devices"] = json!([{"type": "c", "path": "/dev/fuse", "major": 10, "minor": 229, "fileMode": 8630}]);
        let p = build_json(v, b.path()).unwrap();
        assert_eq!(p.devices[0].mode, 0o666);
        assert_eq!(p.devices[0].kind, libc::S_IFCHR);
        let mut v = base();
        v["linux"]["devices"] = json!([{"type": "c", "path": "/dev/x"}]);
        assert!(err_of(v, b.path()).contains("/linux/devices/0/major"));
    }

    #[writ_macros::verifies(
        "config.process.cwd.absolute",
        "config.process.args.non_empty",
        "config.process.rlimits.duplicate",
        "config.process.rlimits.type.unknown",
        "config_linux.namespaces.duplicate_type",
        "config_linux.masked_paths.absolute",
        "config_linux.readonly_paths.absolute",
        "config.hooks.prestart.path.absolute",
        "config.mount_options.idmap.no_userns_error",
        "config.process.io_priority.priority.required"
    )]
    #[test]
    fn bad_input_is_rejected_with_its_pointer() {
        let b = bundle();
        let cases: Vec<(Edit, &str)> = vec![
            (
                Box::new(|v| v["process"]["args"] = json!([])),
                "/process/args",
            ),
            (
                Box::new(|v| v["process"]["cwd"] = json!("rel")),
                "/process/cwd",
            ),
            (
                Box::new(|v| v["root"]["path"] = json!("missing")),
                "/root/path",
            ),
            (Box::new(|v| v["hostname"] = json!("h")), "/hostname"),
            (
                Box::new(|v| {
                    v["linux"]["namespaces"] = json!([{"type": "mount"}, {"type": "mount"}])
                }),
                "/linux/namespaces/1/type",
            ),
            (
                Box::new(|v| v["linux"]["namespaces"] = json!([{"type": "pid"}])),
                "/linux/namespaces",
            ),
            (
                Box::new(|v| {
                    v["linux"]["namespaces"] = json!([{"type": "mount"}, {"type": "user"}])
                }),
                "/linux/uidMappings",
            ),
            (
                Box::new(|v| {
                    v["process"]["rlimits"] = json!([
                        {"type": "RLIMIT_NOFILE", "soft": 1, "hard": 2},
                        {"type": "RLIMIT_NOFILE", "soft": 1, "hard": 2}
                    ])
                }),
                "/process/rlimits/1/type",
            ),
            (
                Box::new(|v| {
                    v["process"]["rlimits"] = json!([{"type": "RLIMIT_NOPE", "soft": 1, "hard": 2}])
                }),
                "/process/rlimits/0/type",
            ),
            (
                Box::new(|v| {
                    v["process"]["rlimits"] = json!([{"type": "RLIMIT_CORE", "soft": 3, "hard": 2}])
                }),
                "/process/rlimits/0",
            ),
            (
                Box::new(|v| v["linux"]["maskedPaths"] = json!(["proc/kcore"])),
                "/linux/maskedPaths/0",
            ),
            (
                Box::new(|v| v["linux"]["readonlyPaths"] = json!(["x"])),
                "/linux/readonlyPaths/0",
            ),
            (
                Box::new(|v| v["linux"]["sysctl"] = json!({"../x": "1"})),
                "/linux/sysctl/../x",
            ),
            (
                Box::new(|v| {
                    v["process"]["ioPriority"] = json!({"class": "IOPRIO_CLASS_BE", "priority": 9})
                }),
                "/process/ioPriority/priority",
            ),
            (
                Box::new(|v| v["process"]["execCPUAffinity"] = json!({"initial": "3-1"})),
                "/process/execCPUAffinity/initial",
            ),
            (
                Box::new(|v| v["hooks"] = json!({"prestart": [{"path": "rel"}]})),
                "/hooks/prestart/0/path",
            ),
            (
                Box::new(|v| v["linux"]["timeOffsets"] = json!({"monotonic": {"secs": 1}})),
                "/linux/timeOffsets",
            ),
            (
                Box::new(|v| {
                    v["mounts"] =
                        json!([{"destination": "/x", "source": "/y", "options": ["bind", "idmap"]}])
                }),
                "/mounts/0",
            ),
        ];
        for (edit, ptr) in cases {
            let mut v = base();
            edit(&mut v);
            let e = err_of(v.clone(), b.path());
            assert!(
                e.starts_with(ptr),
                "expected an error at {ptr}, got {e:?} for {v}"
            );
        }
    }

    #[writ_macros::verifies(
        "config.process.capabilities.unknown_warn",
        "config.process.capabilities.ungrantable_ok"
    )]
    #[test]
    fn unknown_capabilities_are_warnings() {
        let b = bundle();
        let mut v = base();
        v["process"]["capabilities"] = json!({
            "bounding": ["CAP_CHOWN", "CAP_NOT_A_CAP"],
            "effective": ["CAP_CHOWN"],
            "permitted": ["CAP_CHOWN", "CAP_KILL"]
        });
        // The name Linux does not define is a warning of the rule set create logs...
        let findings = writ_spec::validate_config_value(&v);
        let w: Vec<_> = findings
            .iter()
            .filter(|f| f.requirement == "config.process.capabilities.unknown_warn")
            .collect();
        assert_eq!(w.len(), 1, "{findings:?}");
        assert_eq!(w[0].pointer, "/process/capabilities/bounding/1");
        assert_eq!(w[0].severity, writ_spec::Severity::Warning);
        assert!(w[0].message.contains("CAP_NOT_A_CAP"));
        assert!(findings.iter().all(|f| !f.is_error()), "{findings:?}");
        // ... and the container is still planned, without it.
        let p = build_json(v, b.path()).unwrap();
        let caps = p.process.capabilities.unwrap();
        assert_eq!(caps.bounding, 1);
        assert_eq!(caps.permitted, 1 | (1 << 5));
        assert_eq!(caps.inheritable, 0);
        assert!(p.warnings.is_empty(), "{:?}", p.warnings);
    }

    #[test]
    fn namespaces_hooks_and_resources_are_planned() {
        let b = bundle();
        let mut v = base();
        v["hostname"] = json!("box");
        v["linux"]["namespaces"] = json!([
            {"type": "mount"}, {"type": "uts"}, {"type": "network", "path": "/run/netns/x"},
            {"type": "user"}, {"type": "time"}
        ]);
        v["linux"]["uidMappings"] = json!([{"containerID": 0, "hostID": 1000, "size": 10}]);
        v["linux"]["gidMappings"] = json!([{"containerID": 0, "hostID": 1000, "size": 10}]);
        v["linux"]["timeOffsets"] = json!({"boottime": {"secs": 5, "nanosecs": 7}});
        v["linux"]["rootfsPropagation"] = json!("slave");
        v["linux"]["cgroupsPath"] = json!("/a/b");
        v["linux"]["resources"] =
            json!({"memory": {"limit": 1000}, "pids": {"limit": 0}, "cpu": {"shares": 2}});
        v["hooks"] =
            json!({"createRuntime": [{"path": "/bin/true", "args": ["true"], "timeout": 3}]});
        v["annotations"] = json!({"k": "v"});
        v["process"]["terminal"] = json!(true);
        let p = build_json(v, b.path()).unwrap();
        assert_eq!(p.hostname.as_deref(), Some("box"));
        assert_eq!(
            p.namespace(NamespaceKind::Network).unwrap().path.as_deref(),
            Some(std::path::Path::new("/run/netns/x"))
        );
        assert_eq!(p.uid_mappings[0].host_id, 1000);
        assert_eq!(p.time_offsets[0].clock, "boottime");
        assert_eq!(p.time_offsets[0].nanosecs, 7);
        assert_eq!(p.rootfs_propagation, Some(libc::MS_SLAVE | libc::MS_REC));
        assert_eq!(p.cgroups_path.as_deref(), Some("/a/b"));
        assert_eq!(p.resources.memory.limit, Some(1000));
        assert_eq!(p.resources.pids_limit, Some(0));
        assert_eq!(p.hooks.create_runtime[0].timeout, Some(3));
        assert_eq!(p.annotations.get("k").map(String::as_str), Some("v"));
        assert!(p.terminal);
    }
}

#[cfg(test)]
mod device_rule_tests {
    use super::*;
    use serde_json::json;

    /// The plan of a minimal config with `linux` merged into its linux section.
    fn plan_with_linux(linux: serde_json::Value) -> ContainerPlan {
        let b = tempfile::tempdir().unwrap();
        std::fs::create_dir(b.path().join("rootfs")).unwrap();
        let mut v = json!({
            "ociVersion": "1.3.0",
            "root": {"path": "rootfs"},
            "process": {"cwd": "/", "args": ["sh"]},
            "linux": {"namespaces": [{"type": "mount"}]}
        });
        for (k, x) in linux.as_object().unwrap() {
            v["linux"][k] = x.clone();
        }
        let spec: writ_spec::Spec = serde_json::from_value(v).unwrap();
        build(&spec, b.path()).unwrap()
    }

    #[writ_macros::verifies("config_linux.device_allowlist.order")]
    #[test]
    fn device_rules_keep_order_and_allow_given_devices() {
        let p = plan_with_linux(json!({"resources": {"devices": [
            {"allow": false, "access": "rwm"},
            {"allow": true, "type": "c", "major": 10, "access": "r"}
        ]}}));
        let lines: Vec<String> = p
            .resources
            .devices
            .iter()
            .map(DeviceRule::v1_line)
            .collect();
        // The default deny, then the config's rules in order, then the given devices.
        assert_eq!(lines[..3], ["a", "a", "c 10:* r"]);
        assert!(!p.resources.devices[0].allow && !p.resources.devices[1].allow);
        assert!(p.resources.devices[2].allow);
        assert!(lines[3..].contains(&"c 1:3 rwm".to_string()), "{lines:?}");
        assert!(lines[3..].contains(&"c 136:* rwm".to_string()), "{lines:?}");
    }

    #[writ_macros::verifies("config_linux.devices.unlisted_access")]
    #[test]
    fn without_device_rules_only_the_given_devices_are_allowed() {
        let p = plan_with_linux(json!({
            "devices": [{"path": "/dev/fuse", "type": "c", "major": 10, "minor": 229}]
        }));
        let rules = &p.resources.devices;
        assert_eq!(
            (rules[0].allow, rules[0].v1_line()),
            (false, "a".to_string())
        );
        let allowed: Vec<String> = rules[1..]
            .iter()
            .inspect(|r| assert!(r.allow, "only allowances after the deny: {r:?}"))
            .map(DeviceRule::v1_line)
            .collect();
        for want in [
            "c 10:229 rwm",
            "c 1:3 rwm",
            "c 1:9 rwm",
            "c 5:0 rwm",
            "c 5:2 rwm",
            "c 136:* rwm",
        ] {
            assert!(allowed.iter().any(|l| l == want), "{want} in {allowed:?}");
        }
        assert!(
            !allowed.iter().any(|l| l.starts_with('b') || l == "a"),
            "{allowed:?}"
        );
    }
}

#[cfg(test)]
mod memory_policy_tests {
    use super::*;
    use serde_json::json;

    fn plan(v: serde_json::Value) -> Result<MemoryPolicyPlan, String> {
        memory_policy_plan(&serde_json::from_value(v).unwrap()).map_err(|e| e.to_string())
    }

    #[writ_macros::verifies(
        "features_linux.memory_policy.modes.recognised",
        "features_linux.memory_policy.flags.recognised"
    )]
    #[test]
    fn every_mode_and_flag_maps_to_set_mempolicy() {
        for (mode, number, nodes) in [
            ("MPOL_DEFAULT", 0, ""),
            ("MPOL_PREFERRED", 1, "1"),
            ("MPOL_BIND", 2, "0-1,65"),
            ("MPOL_INTERLEAVE", 3, "0"),
            ("MPOL_LOCAL", 4, ""),
            ("MPOL_PREFERRED_MANY", 5, "2"),
            ("MPOL_WEIGHTED_INTERLEAVE", 6, "3"),
        ] {
            let p = plan(json!({"mode": mode, "nodes": nodes})).unwrap();
            assert_eq!((p.mode, p.name.as_str()), (number, mode));
        }
        let p = plan(json!({"mode": "MPOL_BIND", "nodes": "0-1,65"})).unwrap();
        assert_eq!(p.nodes, [0b11, 0b10]);
        for (flag, bit) in [
            ("MPOL_F_STATIC_NODES", 1 << 15),
            ("MPOL_F_RELATIVE_NODES", 1 << 14),
            ("MPOL_F_NUMA_BALANCING", 1 << 13),
        ] {
            let p = plan(json!({"mode": "MPOL_BIND", "nodes": "0", "flags": [flag]})).unwrap();
            assert_eq!(p.mode, 2 | bit, "{flag}");
        }
    }

    #[test]
    fn what_the_kernel_would_refuse_is_refused_naming_the_field() {
        for (v, pointer, why) in [
            (
                json!({"nodes": "0"}),
                "/linux/memoryPolicy/mode",
                "needs a mode",
            ),
            (
                json!({"mode": "MPOL_DEFAULT", "nodes": "0"}),
                "/linux/memoryPolicy/nodes",
                "takes no nodes",
            ),
            (
                json!({"mode": "MPOL_BIND"}),
                "/linux/memoryPolicy/nodes",
                "at least one node",
            ),
            (
                json!({"mode": "MPOL_BIND", "nodes": "3-1"}),
                "/linux/memoryPolicy/nodes",
                "not a node list",
            ),
            (
                json!({"mode": "MPOL_BIND", "nodes": "0", "flags": ["MPOL_F_STATIC_NODES", "MPOL_F_RELATIVE_NODES"]}),
                "/linux/memoryPolicy/flags",
                "exclude each other",
            ),
            (
                json!({"mode": "MPOL_INTERLEAVE", "nodes": "0", "flags": ["MPOL_F_NUMA_BALANCING"]}),
                "/linux/memoryPolicy/flags",
                "MPOL_BIND or MPOL_PREFERRED_MANY",
            ),
        ] {
            let e = plan(v).unwrap_err();
            assert!(e.starts_with(pointer) && e.contains(why), "{e}");
        }
    }
}
