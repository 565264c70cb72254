//! The plan of the user process (config.md#process, config-linux.md): user and groups,
//! capabilities, rlimits, oomScoreAdj, LSM labels, ioPriority, scheduler, CPU affinity.

use super::{invalid, unsupported, HostFacts, PlanError};

/// A resource limit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RlimitPlan {
    /// The config's name, e.g. RLIMIT_NOFILE.
    pub name: String,
    /// The RLIMIT_* number.
    pub resource: i32,
    /// The soft limit.
    pub soft: u64,
    /// The hard limit.
    pub hard: u64,
}

/// The five capability sets as bit masks (bit N = capability number N).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CapsPlan {
    /// The bounding set.
    pub bounding: u64,
    /// The effective set.
    pub effective: u64,
    /// The inheritable set.
    pub inheritable: u64,
    /// The permitted set.
    pub permitted: u64,
    /// The ambient set.
    pub ambient: u64,
    /// The highest capability number of the kernel the plan was made for
    /// (`HostFacts::cap_last_cap`): the init takes it from here rather than reading
    /// /proc/sys/kernel/cap_last_cap again.
    pub last_cap: u32,
}

/// process.scheduler, as sched_setattr(2) takes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SchedPlan {
    /// SCHED_* policy number.
    pub policy: u32,
    /// SCHED_FLAG_* bits.
    pub flags: u64,
    /// Nice value (-20..19).
    pub nice: i32,
    /// Static priority.
    pub priority: u32,
    /// SCHED_DEADLINE runtime, ns.
    pub runtime: u64,
    /// SCHED_DEADLINE deadline, ns.
    pub deadline: u64,
    /// SCHED_DEADLINE period, ns.
    pub period: u64,
}

/// The user process (config.md#process).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ProcessPlan {
    /// argv; `args[0]` is the program.
    pub args: Vec<String>,
    /// The environment, `KEY=value` entries.
    pub env: Vec<String>,
    /// Absolute, inside the container.
    pub cwd: String,
    /// The user id.
    pub uid: u32,
    /// The group id.
    pub gid: u32,
    /// The umask; `None`: 0o022.
    pub umask: Option<u32>,
    /// Supplementary groups.
    pub additional_gids: Vec<u32>,
    /// Resource limits, in config order.
    pub rlimits: Vec<RlimitPlan>,
    /// process.noNewPrivileges.
    pub no_new_privileges: bool,
    /// `None`: the config has no `capabilities` object (all sets end up empty for non-root).
    pub capabilities: Option<CapsPlan>,
    /// process.oomScoreAdj.
    pub oom_score_adj: Option<i32>,
    /// The AppArmor profile the program runs under.
    pub apparmor_profile: Option<String>,
    /// The SELinux label the program runs under.
    pub selinux_label: Option<String>,
    /// (class, level).
    pub io_priority: Option<(u32, u32)>,
    /// process.scheduler.
    pub scheduler: Option<SchedPlan>,
    /// CPUs before the container's setup (execCPUAffinity.initial).
    pub cpu_affinity_initial: Option<Vec<usize>>,
    /// CPUs of the program (execCPUAffinity.final).
    pub cpu_affinity_final: Option<Vec<usize>>,
    /// consoleSize (rows, columns), used only with a terminal.
    pub console_size: Option<(u16, u16)>,
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

/// "CAP_SYS_ADMIN" for 21; a number writ-spec's list does not name as "capability N".
pub fn cap_name(n: u32) -> String {
    match writ_spec::rules::CAPABILITIES.get(n as usize) {
        Some(name) => format!("CAP_{name}"),
        None => format!("capability {n}"),
    }
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

/// The capability sets; a name this kernel does not know is a warning, not an error.
#[writ_macros::requirement(
    "config.process.capabilities.unknown_warn",
    "config.process.capabilities.ungrantable_ok"
)]
fn caps_of(
    c: &writ_spec::LinuxCapabilities,
    host: &HostFacts,
    warnings: &mut Vec<String>,
) -> CapsPlan {
    let mut set = |list: &Option<Vec<String>>, which: &str| -> u64 {
        let mut bits = 0u64;
        for name in list.iter().flatten() {
            match cap_number(name) {
                Some(n) if n <= host.cap_last_cap => bits |= 1u64 << n,
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
        last_cap: host.cap_last_cap,
    }
}

/// The rlimits; uniqueness of the types is a rule of writ-spec's (checked before).
#[writ_macros::requirement(
    "config.process.rlimits.type.unknown",
    "config.process.rlimits.type.getrlimit"
)]
fn rlimits_of(p: &writ_spec::Process) -> Result<Vec<RlimitPlan>, PlanError> {
    let mut rlimits = Vec::new();
    for (i, r) in p.rlimits.iter().flatten().enumerate() {
        let ptr = format!("/process/rlimits/{i}");
        let Some(resource) = rlimit_number(&r.type_) else {
            return Err(invalid(
                format!("{ptr}/type"),
                format!("unknown rlimit {:?}", r.type_),
            ));
        };
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
    Ok(rlimits)
}

fn io_priority_of(p: &writ_spec::Process) -> Result<Option<(u32, u32)>, PlanError> {
    use writ_spec::IoPriorityClass;
    let Some(io) = &p.io_priority else {
        return Ok(None);
    };
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
    Ok(Some((class, prio as u32)))
}

fn scheduler_of(p: &writ_spec::Process) -> Result<Option<SchedPlan>, PlanError> {
    use writ_spec::{SchedulerFlag, SchedulerPolicy};
    let Some(s) = &p.scheduler else {
        return Ok(None);
    };
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
    Ok(Some(SchedPlan {
        policy,
        flags,
        nice,
        priority: priority as u32,
        runtime: s.runtime.unwrap_or(0),
        deadline: s.deadline.unwrap_or(0),
        period: s.period.unwrap_or(0),
    }))
}

type Affinity = (Option<Vec<usize>>, Option<Vec<usize>>);

fn affinity_of(p: &writ_spec::Process) -> Result<Affinity, PlanError> {
    let list = |v: &Option<String>, which: &str| -> Result<Option<Vec<usize>>, PlanError> {
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
    match &p.exec_cpu_affinity {
        None => Ok((None, None)),
        Some(a) => Ok((list(&a.initial, "initial")?, list(&a.final_, "final")?)),
    }
}

fn oom_score_adj_of(p: &writ_spec::Process) -> Result<Option<i32>, PlanError> {
    match p.oom_score_adj {
        None => Ok(None),
        Some(v) if (-1000..=1000).contains(&v) => Ok(Some(v as i32)),
        Some(v) => Err(invalid(
            "/process/oomScoreAdj",
            format!("{v} is outside -1000..1000"),
        )),
    }
}

/// A label is refused when its LSM is not active on the host.
fn check_lsm(p: &ProcessPlan, host: &HostFacts) -> Result<(), PlanError> {
    if let Some(prof) = &p.apparmor_profile {
        if !host.apparmor {
            return Err(invalid(
                "/process/apparmorProfile",
                format!(
                    "process.apparmorProfile {prof:?} is set but AppArmor is not enabled on this host"
                ),
            ));
        }
    }
    if let Some(l) = &p.selinux_label {
        if !host.selinux {
            return Err(invalid(
                "/process/selinuxLabel",
                format!(
                    "process.selinuxLabel {l:?} is set but SELinux is not enabled on this host"
                ),
            ));
        }
    }
    Ok(())
}

/// The plan of `process`. The rules writ-spec checks (cwd absolute, args non-empty,
/// rlimit types unique, ioPriority's priority given) hold already: `exec` checks its
/// process.json with them first.
#[writ_macros::requirement("config.process.console_size.ignored")]
pub fn process_of(
    p: &writ_spec::Process,
    host: &HostFacts,
    warnings: &mut Vec<String>,
) -> Result<ProcessPlan, PlanError> {
    let user = p.user.clone().unwrap_or_default();
    let (cpu_affinity_initial, cpu_affinity_final) = affinity_of(p)?;
    let plan = ProcessPlan {
        args: p.args.clone().unwrap_or_default(),
        env: p.env.clone().unwrap_or_default(),
        cwd: p.cwd.clone(),
        uid: user.uid.unwrap_or(0),
        gid: user.gid.unwrap_or(0),
        umask: user.umask,
        additional_gids: user.additional_gids.clone().unwrap_or_default(),
        rlimits: rlimits_of(p)?,
        no_new_privileges: p.no_new_privileges.unwrap_or(false),
        capabilities: p.capabilities.as_ref().map(|c| caps_of(c, host, warnings)),
        oom_score_adj: oom_score_adj_of(p)?,
        apparmor_profile: p.apparmor_profile.clone().filter(|s| !s.is_empty()),
        selinux_label: p.selinux_label.clone().filter(|s| !s.is_empty()),
        io_priority: io_priority_of(p)?,
        scheduler: scheduler_of(p)?,
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
    check_lsm(&plan, host)?;
    Ok(plan)
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
    fn lsm_labels_need_their_lsm() {
        let p = ProcessPlan {
            apparmor_profile: Some("p".into()),
            ..Default::default()
        };
        let none = HostFacts::default();
        let e = check_lsm(&p, &none).unwrap_err().to_string();
        assert!(e.starts_with("/process/apparmorProfile: "), "{e}");
        let aa = HostFacts {
            apparmor: true,
            ..HostFacts::default()
        };
        assert!(check_lsm(&p, &aa).is_ok());
        let p = ProcessPlan {
            selinux_label: Some("l".into()),
            ..Default::default()
        };
        let e = check_lsm(&p, &aa).unwrap_err().to_string();
        assert!(e.starts_with("/process/selinuxLabel: "), "{e}");
    }
}
