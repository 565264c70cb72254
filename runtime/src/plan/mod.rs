//! The container plan: everything resolved from the config and checked before anything
//! is touched. Plain data, built by [`from_config`] from config.json's bytes; it imports
//! nothing that touches the host: what it needs to know about the host comes in as a
//! [`HostFacts`] value (probed by `crate::host`), so every rule here is unit-tested
//! without root.
//!
//! Each rule is checked in one place. The spec's prose rules about the config (absolute
//! paths, types listed once, required members, ...) are writ-spec's (`writ_spec::rules`),
//! run first by [`from_config`]; what this module checks is what writ itself needs (a uts
//! namespace for a hostname, a known rlimit, a supported seccomp action, ...), each with the JSON
//! pointer of the value at fault.
//!
//! One submodule per section of the spec owns its `*Plan` types; they are re-exported
//! here.

pub mod devices;
pub mod hooks;
pub mod memory_policy;
pub mod mounts;
pub mod namespaces;
pub mod netdev;
pub mod process;
pub mod resources;
mod seccomp;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

pub use devices::DevicePlan;
pub use hooks::{HookPlan, HooksPlan};
pub use memory_policy::MemoryPolicyPlan;
pub use mounts::{IdmapPlan, MountAttrs, MountPlan};
pub use namespaces::{
    id_map_text, IdMap, NamespaceKind, NamespacePlan, NamespaceSteps, TimeOffset,
};
pub use netdev::NetDevicePlan;
pub use process::{cap_name, cap_number, parse_cpu_list, process_of, rlimit_number};
pub use process::{CapsPlan, ProcessPlan, RlimitPlan, SchedPlan};
pub use resources::{DeviceRule, ResourcesPlan};

/// Everything `container::create` needs, checked.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ContainerPlan {
    /// The config's ociVersion.
    pub oci_version: String,
    /// Absolute rootfs path on the host.
    pub rootfs: PathBuf,
    /// root.readonly.
    pub root_readonly: bool,
    /// The hostname to set (needs a uts namespace, new or joined).
    pub hostname: Option<String>,
    /// The domainname to set (needs a uts namespace, new or joined).
    pub domainname: Option<String>,
    /// The user process.
    pub process: ProcessPlan,
    /// process.terminal.
    pub terminal: bool,
    /// The mounts, in config order.
    pub mounts: Vec<MountPlan>,
    /// The namespaces to create or join.
    pub namespaces: Vec<NamespacePlan>,
    /// uidMappings of a user namespace.
    pub uid_mappings: Vec<IdMap>,
    /// gidMappings of a user namespace.
    pub gid_mappings: Vec<IdMap>,
    /// timeOffsets of a new time namespace.
    pub time_offsets: Vec<TimeOffset>,
    /// The config's device nodes (the defaults are added when they are made).
    pub devices: Vec<DevicePlan>,
    /// linux.sysctl.
    pub sysctl: BTreeMap<String, String>,
    /// linux.maskedPaths.
    pub masked_paths: Vec<String>,
    /// linux.readonlyPaths.
    pub readonly_paths: Vec<String>,
    /// MS_* propagation flags for the rootfs (rootfsPropagation), e.g. MS_SLAVE|MS_REC.
    pub rootfs_propagation: Option<u64>,
    /// linux.cgroupsPath.
    pub cgroups_path: Option<String>,
    /// linux.resources.
    pub resources: ResourcesPlan,
    /// PER_LINUX / PER_LINUX32 plus flags.
    pub personality: Option<u64>,
    /// linux.memoryPolicy, set in the container process before the exec.
    pub memory_policy: Option<MemoryPolicyPlan>,
    /// linux.intelRdt as the config gives it (checked by validate; applied by resctrl).
    pub intel_rdt: Option<writ_spec::IntelRdt>,
    /// Host interfaces to move into the container's network namespace.
    pub net_devices: Vec<NetDevicePlan>,
    /// The seccomp profile, checked (compiled by create).
    pub seccomp: Option<writ_spec::Seccomp>,
    /// The hooks.
    pub hooks: HooksPlan,
    /// The config's annotations.
    pub annotations: BTreeMap<String, String>,
    /// Non-fatal findings of the plan (flags writ ignores, a capability this host's
    /// kernel does not know), logged by create as warnings.
    pub warnings: Vec<String>,
    /// The warnings of writ-spec's rule set about the config, logged by create.
    pub findings: Vec<Finding>,
}

impl ContainerPlan {
    /// The namespace of this kind, if the config lists one.
    pub fn namespace(&self, kind: NamespaceKind) -> Option<&NamespacePlan> {
        self.namespaces.iter().find(|n| n.kind == kind)
    }
}

/// What the plan needs to know about the host, probed by the caller (`crate::host`).
#[derive(Debug, Clone, Copy)]
pub struct HostFacts {
    /// AppArmor is enabled.
    pub apparmor: bool,
    /// SELinux is enabled.
    pub selinux: bool,
    /// The highest capability number the kernel knows.
    pub cap_last_cap: u32,
    /// Whether a host path is a directory (the rootfs must be one).
    pub is_dir: fn(&Path) -> bool,
}

impl Default for HostFacts {
    /// A host without LSMs, with the capabilities of Linux 5.9+ (up to
    /// CAP_CHECKPOINT_RESTORE), on which every path is a directory: for tests.
    fn default() -> Self {
        HostFacts {
            apparmor: false,
            selinux: false,
            cap_last_cap: 40,
            is_dir: |_| true,
        }
    }
}

/// Why a config cannot become a plan. Nothing has been touched when this is returned.
#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    /// config.json is not JSON, not of the shape of a config, or breaks rules of the spec
    /// (writ-spec's rule set, the one `writ validate` reports): the counts, then every
    /// diagnostic (`config.json:12:5: error[id]: ...`, the source line, a caret).
    #[error("{}\n{}", .0.counts(), .0.render_diagnostics().trim_end())]
    Rules(Box<writ_spec::Report>),
    /// A value writ cannot carry out, at a JSON pointer.
    #[error("{pointer}: {message}")]
    Invalid {
        /// JSON pointer of the value.
        pointer: String,
        /// What is wrong with it.
        message: String,
    },
}

impl PlanError {
    /// The JSON pointer of the (first) value at fault, when there is one.
    pub fn pointer(&self) -> Option<&str> {
        match self {
            PlanError::Invalid { pointer, .. } => Some(pointer),
            PlanError::Rules(report) => report
                .diagnostics()
                .iter()
                .find(|d| d.severity == writ_spec::Severity::Error)
                .and_then(|d| d.pointer.as_deref()),
        }
    }
}

pub(crate) fn invalid(pointer: impl Into<String>, message: impl Into<String>) -> PlanError {
    PlanError::Invalid {
        pointer: pointer.into(),
        message: message.into(),
    }
}

/// A value of a spec enum this writ does not implement (one a later release of the spec
/// added; the enums are `#[non_exhaustive]`).
pub(crate) fn unsupported(pointer: impl Into<String>, value: impl std::fmt::Display) -> PlanError {
    invalid(
        pointer,
        format!(
            "{value:?} is not supported by this writ",
            value = value.to_string()
        ),
    )
}

/// A finding of writ-spec's rule set about a config that is still accepted (a warning),
/// for create to log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// A warning the spec asks a runtime to log (a member it does not define, a
    /// capability it cannot grant); the others are about how the config was written and
    /// belong in the debug log.
    pub logged_as_warning: bool,
    /// `config.json:12:5: warning[id]: ...`.
    pub line: String,
}

/// The warnings of the rule set that a runtime is asked to log (members the spec does not
/// define; capabilities it cannot grant).
const LOGGED_AS_WARNINGS: [&str; 2] = [
    "config.extensibility.log_unknown",
    "config.process.capabilities.unknown_warn",
];

/// The plan of config.json's bytes. `bundle` is the absolute bundle directory.
///
/// The config is checked with writ-spec's rule set, the one `writ validate` reports
/// ([`writ_spec::validate_config_value`]): any error refuses it before anything is
/// touched, with every diagnostic in the error. Warnings (a recommendation not followed,
/// a value runc accepts outside the spec such as podman's device fileMode, an annotation
/// key the spec does not define) never refuse it; they come back in
/// [`ContainerPlan::findings`], those the spec asks a runtime to log (members it does
/// not define, unknown capabilities) marked as warnings. `ociVersion` is only checked to
/// be a SemVer version, so every version from `writ features`' `ociVersionMin` to its
/// `ociVersionMax` is accepted.
#[writ_macros::requirement(
    "config.valid_values.error",
    "config.annotations.unknown_keys",
    "config.extensibility.ignore_unknown",
    "config.extensibility.log_unknown",
    "config.process.capabilities.unknown_warn",
    "runtime.create.validate",
    "features.oci_version_min.accepted",
    "features.oci_version_max.accepted"
)]
pub fn from_config(
    data: &[u8],
    bundle: &Path,
    host: &HostFacts,
) -> Result<ContainerPlan, PlanError> {
    let file = bundle.join("config.json").display().to_string();
    let (spec, report) = match writ_spec::parse_config(data) {
        Ok(parsed) => {
            let report = writ_spec::Report::new(file.as_str(), data, &parsed.violations);
            (Some(parsed.value), report)
        }
        Err(e) => (
            None,
            writ_spec::Report::of_parse_error(file.as_str(), data, &e),
        ),
    };
    let spec = match spec {
        Some(spec) if report.is_ok() => spec,
        _ => return Err(PlanError::Rules(Box::new(report))),
    };
    let mut plan = build(spec, bundle, host)?;
    plan.findings = report
        .diagnostics()
        .iter()
        .map(|d| Finding {
            logged_as_warning: LOGGED_AS_WARNINGS.contains(&d.requirement),
            line: d.one_line(&file),
        })
        .collect();
    Ok(plan)
}

/// Builds the plan from a config that satisfies writ-spec's rules (see [`from_config`]).
/// The config is consumed: its annotations (which may be megabytes) move into the plan.
#[writ_macros::requirement("config.process.required_at_start", "runtime.start.no_process")]
fn build(
    spec: writ_spec::Spec,
    bundle: &Path,
    host: &HostFacts,
) -> Result<ContainerPlan, PlanError> {
    let mut warnings = Vec::new();
    // root is required on Linux: writ-spec's rule.
    let root = spec.root.clone().unwrap_or_default();
    let rootfs = bundle.join(&root.path);
    if !(host.is_dir)(&rootfs) {
        return Err(invalid(
            "/root/path",
            format!("{} is not a directory", rootfs.display()),
        ));
    }
    let process = spec
        .process
        .as_ref()
        .ok_or_else(|| invalid("/process", "is required to create a container"))?;
    let process_plan = process::process_of(process, host, &mut warnings)?;
    let linux = spec.linux.clone().unwrap_or_default();
    let ns = namespaces::namespaces_of(&spec, &linux)?;
    let mounts = mounts::mounts_of(&spec, bundle, !ns.uid_mappings.is_empty())?;
    let devices = linux
        .devices
        .iter()
        .flatten()
        .enumerate()
        .map(|(i, d)| devices::device_of(d, i))
        .collect::<Result<Vec<_>, _>>()?;
    let net_devices = netdev::net_devices_of(&linux, &ns)?;
    if let Some(s) = &linux.seccomp {
        seccomp::check(s)?;
    }
    let personality = personality_of(&linux, &mut warnings);
    Ok(ContainerPlan {
        oci_version: spec.oci_version.clone(),
        rootfs,
        root_readonly: root.readonly.unwrap_or(false),
        hostname: spec.hostname.clone().filter(|h| !h.is_empty()),
        domainname: spec.domainname.clone().filter(|h| !h.is_empty()),
        terminal: process.terminal.unwrap_or(false),
        process: process_plan,
        mounts,
        resources: resources::resources_plan(linux.resources.as_ref(), &devices),
        devices,
        sysctl: sysctl_of(&linux)?,
        masked_paths: linux.masked_paths.clone().unwrap_or_default(),
        readonly_paths: linux.readonly_paths.clone().unwrap_or_default(),
        rootfs_propagation: linux
            .rootfs_propagation
            .map(propagation_flags)
            .transpose()?,
        cgroups_path: linux.cgroups_path.clone().filter(|p| !p.is_empty()),
        personality,
        memory_policy: linux
            .memory_policy
            .as_ref()
            .map(memory_policy::memory_policy_plan)
            .transpose()?,
        intel_rdt: linux.intel_rdt.clone(),
        seccomp: linux.seccomp.clone(),
        net_devices,
        hooks: hooks::hooks_plan(&spec.hooks)?,
        annotations: spec.annotations.unwrap_or_default(),
        namespaces: ns.namespaces,
        uid_mappings: ns.uid_mappings,
        gid_mappings: ns.gid_mappings,
        time_offsets: ns.time_offsets,
        warnings,
        findings: Vec::new(),
    })
}

/// linux.sysctl; a name is dotted or slashed words, never `..`.
fn sysctl_of(linux: &writ_spec::Linux) -> Result<BTreeMap<String, String>, PlanError> {
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
    Ok(sysctl)
}

/// The MS_* flags of rootfsPropagation, always recursive.
fn propagation_flags(p: writ_spec::RootfsPropagation) -> Result<u64, PlanError> {
    use writ_spec::RootfsPropagation as P;
    Ok(libc::MS_REC
        | match p {
            // The r* values are runc's (outside the schema; containerd's CRI writes
            // "rshared" and "rslave"): the same propagation, applied recursively.
            P::Private | P::Rprivate => libc::MS_PRIVATE,
            P::Shared | P::Rshared => libc::MS_SHARED,
            P::Slave | P::Rslave => libc::MS_SLAVE,
            P::Unbindable | P::Runbindable => libc::MS_UNBINDABLE,
            other => return Err(unsupported("/linux/rootfsPropagation", other)),
        })
}

/// linux.personality: the domain; flags are not supported (a warning).
fn personality_of(linux: &writ_spec::Linux, warnings: &mut Vec<String>) -> Option<u64> {
    let p = linux.personality.as_ref()?;
    if p.flags.as_ref().is_some_and(|f| !f.is_empty()) {
        warnings.push("linux.personality.flags are not supported and were ignored".into());
    }
    Some(match p.domain {
        Some(writ_spec::PersonalityDomain::Linux32) => 0x0008,
        _ => 0x0000,
    })
}

#[cfg(test)]
mod tests;
