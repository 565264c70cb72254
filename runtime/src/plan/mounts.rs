//! The plan of the mounts (config.md#mounts, config-linux.md#mount-options): each mount's
//! options parsed into flags, filesystem data, propagation and mount attributes, checked
//! before anything is touched. `crate::mounts` carries them out.

use std::path::Path;

use super::namespaces::IdMap;
use super::{invalid, PlanError};

/// Mount attributes to set and to clear (mount_setattr(2)'s `attr_set` / `attr_clr`,
/// MOUNT_ATTR_* bits).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct MountAttrs {
    /// Bits to set.
    pub set: u64,
    /// Bits to clear.
    pub clear: u64,
}

impl MountAttrs {
    /// Whether it changes nothing.
    pub fn is_empty(&self) -> bool {
        self.set == 0 && self.clear == 0
    }
}

/// An idmapped mount request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdmapPlan {
    /// `ridmap`: the whole tree, not only the top mount.
    pub recursive: bool,
    /// Empty: use the container's user namespace mappings.
    pub uid: Vec<IdMap>,
    /// Empty: use the container's user namespace mappings.
    pub gid: Vec<IdMap>,
}

/// One mount, parsed and checked.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct MountPlan {
    /// Absolute path inside the container.
    pub destination: String,
    /// The filesystem type (`type`).
    pub fstype: Option<String>,
    /// For bind mounts an absolute host path; otherwise passed to mount(2) as is.
    pub source: Option<String>,
    /// MS_* flags other than propagation.
    pub flags: u64,
    /// Non-recursive mount attributes to apply to a bind mount after it is made.
    pub bind_attr: MountAttrs,
    /// Comma-separated filesystem data (options that are not flags).
    pub data: String,
    /// MS_SHARED/MS_SLAVE/MS_PRIVATE/MS_UNBINDABLE, each maybe with MS_REC, in order.
    pub propagation: Vec<u64>,
    /// The recursive `r*` options, applied with mount_setattr(AT_RECURSIVE).
    pub rec_attr: Option<MountAttrs>,
    /// A bind mount (`bind`, `rbind` or type `bind`).
    pub bind: bool,
    /// `rbind`: the whole tree under the source.
    pub recursive_bind: bool,
    /// podman's `tmpcopyup`: a tmpfs gets the contents of the directory it covers.
    pub tmpcopyup: bool,
    /// An idmapped mount.
    pub idmap: Option<IdmapPlan>,
    /// The config's options, for messages.
    pub options: Vec<String>,
}

impl MountPlan {
    /// A mount of type `cgroup` or `cgroup2` (the container's own cgroups).
    pub fn is_cgroup(&self) -> bool {
        matches!(self.fstype.as_deref(), Some("cgroup") | Some("cgroup2"))
    }
}

/// The parsed form of a mount's `options`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ParsedOptions {
    /// MS_* flags to set.
    pub flags: u64,
    /// MS_* flags the options clear (`rw`, `suid`, ...).
    pub clear: u64,
    /// Filesystem data, options that are not in the table.
    pub data: Vec<String>,
    /// Propagation flags, in order.
    pub propagation: Vec<u64>,
    /// MOUNT_ATTR_* bits of the recursive options to set.
    pub rec_set: u64,
    /// MOUNT_ATTR_* bits of the recursive options to clear.
    pub rec_clr: u64,
    /// `bind` or `rbind`.
    pub bind: bool,
    /// `rbind`.
    pub recursive_bind: bool,
    /// `tmpcopyup`.
    pub tmpcopyup: bool,
    /// `idmap` or `ridmap`.
    pub idmap: bool,
    /// `ridmap`.
    pub ridmap: bool,
}

/// MS_NOSYMFOLLOW (Linux 5.10), which libc does not name.
pub const MS_NOSYMFOLLOW: u64 = 256;

/// Parses mount options per the Linux mount-options table (v1.2+). Options that are not in
/// the table are filesystem data (`size=64k`, `mode=755`, ...).
#[writ_macros::requirement(
    "config.mount_options.must",
    "config.mount_options.should",
    "config.mount_options.may",
    "config.mount_options.mount8",
    "config.mount_options.custom",
    "config.mount_options.custom.mount8",
    "config.mount_options.unknown_as_data",
    "config.mount_options.tmpcopyup",
    "config.mount_options.idmap.not_passed",
    "config.mount_options.ridmap.not_passed",
    "config.mount_options.async",
    "config.mount_options.atime",
    "config.mount_options.bind",
    "config.mount_options.defaults",
    "config.mount_options.dev",
    "config.mount_options.diratime",
    "config.mount_options.dirsync",
    "config.mount_options.exec",
    "config.mount_options.iversion",
    "config.mount_options.lazytime",
    "config.mount_options.loud",
    "config.mount_options.mand",
    "config.mount_options.noatime",
    "config.mount_options.nodev",
    "config.mount_options.nodiratime",
    "config.mount_options.noexec",
    "config.mount_options.noiversion",
    "config.mount_options.nolazytime",
    "config.mount_options.nomand",
    "config.mount_options.norelatime",
    "config.mount_options.nostrictatime",
    "config.mount_options.nosuid",
    "config.mount_options.nosymfollow",
    "config.mount_options.private",
    "config.mount_options.ratime",
    "config.mount_options.rbind",
    "config.mount_options.rdev",
    "config.mount_options.rdiratime",
    "config.mount_options.relatime",
    "config.mount_options.remount",
    "config.mount_options.rexec",
    "config.mount_options.rnoatime",
    "config.mount_options.rnodiratime",
    "config.mount_options.rnoexec",
    "config.mount_options.rnorelatime",
    "config.mount_options.rnostrictatime",
    "config.mount_options.rnosuid",
    "config.mount_options.rnosymfollow",
    "config.mount_options.ro",
    "config.mount_options.rprivate",
    "config.mount_options.rrelatime",
    "config.mount_options.rro",
    "config.mount_options.rrw",
    "config.mount_options.rshared",
    "config.mount_options.rslave",
    "config.mount_options.rstrictatime",
    "config.mount_options.rsuid",
    "config.mount_options.rsymfollow",
    "config.mount_options.runbindable",
    "config.mount_options.rw",
    "config.mount_options.shared",
    "config.mount_options.silent",
    "config.mount_options.slave",
    "config.mount_options.strictatime",
    "config.mount_options.suid",
    "config.mount_options.symfollow",
    "config.mount_options.sync",
    "config.mount_options.unbindable"
)]
pub fn parse_options(options: &[String]) -> ParsedOptions {
    use libc::*;
    let mut p = ParsedOptions::default();
    for o in options {
        let (set, clr): (u64, u64) = match o.as_str() {
            "async" => (0, MS_SYNCHRONOUS),
            "atime" => (0, MS_NOATIME),
            "defaults" => (0, 0),
            "dev" => (0, MS_NODEV),
            "diratime" => (0, MS_NODIRATIME),
            "dirsync" => (MS_DIRSYNC, 0),
            "exec" => (0, MS_NOEXEC),
            "iversion" => (MS_I_VERSION, 0),
            "lazytime" => (MS_LAZYTIME, 0),
            "loud" => (0, MS_SILENT),
            "mand" => (MS_MANDLOCK, 0),
            "noatime" => (MS_NOATIME, 0),
            "nodev" => (MS_NODEV, 0),
            "nodiratime" => (MS_NODIRATIME, 0),
            "noexec" => (MS_NOEXEC, 0),
            "noiversion" => (0, MS_I_VERSION),
            "nolazytime" => (0, MS_LAZYTIME),
            "nomand" => (0, MS_MANDLOCK),
            "norelatime" => (0, MS_RELATIME),
            "nostrictatime" => (0, MS_STRICTATIME),
            "nosuid" => (MS_NOSUID, 0),
            "nosymfollow" => (MS_NOSYMFOLLOW, 0),
            "relatime" => (MS_RELATIME, 0),
            "remount" => (MS_REMOUNT, 0),
            "ro" => (MS_RDONLY, 0),
            "rw" => (0, MS_RDONLY),
            "silent" => (MS_SILENT, 0),
            "strictatime" => (MS_STRICTATIME, 0),
            "suid" => (0, MS_NOSUID),
            "symfollow" => (0, MS_NOSYMFOLLOW),
            "sync" => (MS_SYNCHRONOUS, 0),
            "bind" => {
                p.bind = true;
                continue;
            }
            "rbind" => {
                p.bind = true;
                p.recursive_bind = true;
                continue;
            }
            "tmpcopyup" => {
                p.tmpcopyup = true;
                continue;
            }
            "idmap" => {
                p.idmap = true;
                continue;
            }
            "ridmap" => {
                p.idmap = true;
                p.ridmap = true;
                continue;
            }
            _ => {
                if let Some(prop) = propagation_flag(o) {
                    p.propagation.push(prop);
                } else if let Some((s, c)) = recursive_attr(o) {
                    p.rec_set = (p.rec_set & !c) | s;
                    p.rec_clr = (p.rec_clr & !s) | c;
                } else {
                    p.data.push(o.clone());
                }
                continue;
            }
        };
        p.flags = (p.flags & !clr) | set;
        p.clear = (p.clear & !set) | clr;
    }
    p
}

/// MS_* propagation flags for `shared`, `rslave`, ...
pub fn propagation_flag(o: &str) -> Option<u64> {
    use libc::*;
    Some(match o {
        "private" => MS_PRIVATE,
        "rprivate" => MS_PRIVATE | MS_REC,
        "shared" => MS_SHARED,
        "rshared" => MS_SHARED | MS_REC,
        "slave" => MS_SLAVE,
        "rslave" => MS_SLAVE | MS_REC,
        "unbindable" => MS_UNBINDABLE,
        "runbindable" => MS_UNBINDABLE | MS_REC,
        _ => return None,
    })
}

/// (attr_set, attr_clr) of mount_setattr for a recursive option.
fn recursive_attr(o: &str) -> Option<(u64, u64)> {
    use libc::*;
    let atime = |set: u64| (set, MOUNT_ATTR__ATIME);
    Some(match o {
        "rro" => (MOUNT_ATTR_RDONLY, 0),
        "rrw" => (0, MOUNT_ATTR_RDONLY),
        "rnosuid" => (MOUNT_ATTR_NOSUID, 0),
        "rsuid" => (0, MOUNT_ATTR_NOSUID),
        "rnodev" => (MOUNT_ATTR_NODEV, 0),
        "rdev" => (0, MOUNT_ATTR_NODEV),
        "rnoexec" => (MOUNT_ATTR_NOEXEC, 0),
        "rexec" => (0, MOUNT_ATTR_NOEXEC),
        "rnodiratime" => (MOUNT_ATTR_NODIRATIME, 0),
        "rdiratime" => (0, MOUNT_ATTR_NODIRATIME),
        "rnoatime" => atime(MOUNT_ATTR_NOATIME),
        "ratime" | "rrelatime" | "rnostrictatime" => atime(MOUNT_ATTR_RELATIME),
        "rstrictatime" | "rnorelatime" => atime(MOUNT_ATTR_STRICTATIME),
        "rnosymfollow" => (MOUNT_ATTR_NOSYMFOLLOW, 0),
        "rsymfollow" => (0, MOUNT_ATTR_NOSYMFOLLOW),
        _ => return None,
    })
}

/// The mount_setattr attributes equivalent to a bind mount's per-mount MS_* flags.
pub fn bind_attr(flags: u64, clear: u64) -> MountAttrs {
    use libc::*;
    let pairs = [
        (MS_RDONLY, MOUNT_ATTR_RDONLY),
        (MS_NOSUID, MOUNT_ATTR_NOSUID),
        (MS_NODEV, MOUNT_ATTR_NODEV),
        (MS_NOEXEC, MOUNT_ATTR_NOEXEC),
        (MS_NODIRATIME, MOUNT_ATTR_NODIRATIME),
        (MS_NOSYMFOLLOW, MOUNT_ATTR_NOSYMFOLLOW),
    ];
    let mut a = MountAttrs::default();
    for (ms, at) in pairs {
        if flags & ms != 0 {
            a.set |= at;
        }
        if clear & ms != 0 {
            a.clear |= at;
        }
    }
    if flags & MS_NOATIME != 0 {
        a.set |= MOUNT_ATTR_NOATIME;
        a.clear |= MOUNT_ATTR__ATIME;
    } else if flags & MS_STRICTATIME != 0 {
        a.set |= MOUNT_ATTR_STRICTATIME;
        a.clear |= MOUNT_ATTR__ATIME;
    } else if flags & MS_RELATIME != 0 {
        a.clear |= MOUNT_ATTR__ATIME;
    }
    a
}

/// Builds the plan of one mount. `bundle` anchors relative bind sources.
#[writ_macros::requirement(
    "config.mounts.destination.relative_allowed",
    "config.mounts.destination.relative_to_root",
    "config.mounts.uid_mappings.with_gid",
    "config.mounts.gid_mappings.with_uid"
)]
pub fn plan_mount(
    destination: &str,
    fstype: Option<&str>,
    source: Option<&str>,
    options: &[String],
    uid_mappings: Vec<IdMap>,
    gid_mappings: Vec<IdMap>,
    bundle: &Path,
) -> Result<MountPlan, &'static str> {
    // Old configs may give a relative destination: it is taken from the container's "/".
    let destination = if destination.starts_with('/') {
        destination.to_string()
    } else {
        format!("/{destination}")
    };
    let destination = destination.as_str();
    let p = parse_options(options);
    let bind = p.bind || fstype == Some("bind");
    let source = match source {
        Some(s) if bind && !s.starts_with('/') => {
            Some(bundle.join(s).to_string_lossy().into_owned())
        }
        Some(s) => Some(s.to_string()),
        None => None,
    };
    if bind && source.is_none() {
        return Err("a bind mount needs a source");
    }
    let idmap = if p.idmap || !uid_mappings.is_empty() || !gid_mappings.is_empty() {
        if !bind {
            return Err("idmapped mounts are supported for bind mounts only");
        }
        if uid_mappings.is_empty() != gid_mappings.is_empty() {
            return Err("uidMappings and gidMappings must be given together");
        }
        Some(IdmapPlan {
            recursive: p.ridmap,
            uid: uid_mappings,
            gid: gid_mappings,
        })
    } else {
        None
    };
    let rec_attr = (p.rec_set != 0 || p.rec_clr != 0).then_some(MountAttrs {
        set: p.rec_set,
        clear: p.rec_clr,
    });
    Ok(MountPlan {
        destination: destination.to_string(),
        fstype: fstype.map(str::to_string),
        source,
        flags: p.flags,
        bind_attr: bind_attr(p.flags, p.clear),
        data: p.data.join(","),
        propagation: p.propagation,
        rec_attr,
        bind,
        recursive_bind: p.recursive_bind,
        tmpcopyup: p.tmpcopyup,
        idmap,
        options: options.to_vec(),
    })
}

/// The mounts, in config order; an idmapped mount without mappings of its own needs the
/// user namespace's.
pub(super) fn mounts_of(
    spec: &writ_spec::Spec,
    bundle: &Path,
    userns_maps: bool,
) -> Result<Vec<MountPlan>, PlanError> {
    let mut mounts = Vec::new();
    for (i, m) in spec.mounts.iter().flatten().enumerate() {
        let mp = plan_mount(
            &m.destination,
            m.type_.as_deref(),
            m.source.as_deref(),
            m.options.as_deref().unwrap_or(&[]),
            super::namespaces::id_maps(&m.uid_mappings),
            super::namespaces::id_maps(&m.gid_mappings),
            bundle,
        )
        .map_err(|e| invalid(format!("/mounts/{i}"), e))?;
        if mp.idmap.as_ref().is_some_and(|idm| idm.uid.is_empty()) && !userns_maps {
            return Err(invalid(
                format!("/mounts/{i}"),
                "an idmapped mount needs uidMappings/gidMappings on the mount or a user namespace with mappings",
            ));
        }
        mounts.push(mp);
    }
    Ok(mounts)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[writ_macros::verifies(
        "config.mount_options.unknown_as_data",
        "config.mount_options.nosuid",
        "config.mount_options.noexec",
        "config.mount_options.ro",
        "config.mount_options.rw",
        "config.mount_options.rslave"
    )]
    #[test]
    fn flags_data_and_propagation_are_separated() {
        let p = parse_options(&opts(&[
            "nosuid",
            "noexec",
            "mode=755",
            "size=65536k",
            "rslave",
            "ro",
        ]));
        assert_eq!(p.flags, libc::MS_NOSUID | libc::MS_NOEXEC | libc::MS_RDONLY);
        assert_eq!(p.data, vec!["mode=755", "size=65536k"]);
        assert_eq!(p.propagation, vec![libc::MS_SLAVE | libc::MS_REC]);
        // Later options win.
        let p = parse_options(&opts(&["ro", "rw"]));
        assert_eq!(p.flags & libc::MS_RDONLY, 0);
        assert_eq!(p.clear & libc::MS_RDONLY, libc::MS_RDONLY);
    }

    #[writ_macros::verifies(
        "config.mount_options.rro",
        "config.mount_options.rrw",
        "config.mount_options.rnosuid",
        "config.mount_options.rnoatime",
        "config.mount_options.rbind"
    )]
    #[test]
    fn recursive_options_become_mount_attrs() {
        let p = parse_options(&opts(&["rbind", "rro", "rnosuid", "rnoatime"]));
        assert!(p.bind && p.recursive_bind);
        assert_eq!(
            p.rec_set,
            libc::MOUNT_ATTR_RDONLY | libc::MOUNT_ATTR_NOSUID | libc::MOUNT_ATTR_NOATIME
        );
        assert_eq!(p.rec_clr, libc::MOUNT_ATTR__ATIME);
        let p = parse_options(&opts(&["rro", "rrw"]));
        assert_eq!(p.rec_set, 0);
        assert_eq!(p.rec_clr, libc::MOUNT_ATTR_RDONLY);
    }

    #[test]
    fn podman_options_parse() {
        let p = parse_options(&opts(&["rw", "rprivate", "nosuid", "nodev", "tmpcopyup"]));
        assert!(p.tmpcopyup);
        assert_eq!(p.flags, libc::MS_NOSUID | libc::MS_NODEV);
        assert_eq!(p.propagation, vec![libc::MS_PRIVATE | libc::MS_REC]);
    }

    #[writ_macros::verifies(
        "config.mounts.destination.relative_to_root",
        "config.mounts.destination.relative_allowed"
    )]
    #[test]
    fn bind_sources_are_anchored_at_the_bundle() {
        let m = plan_mount(
            "/data",
            None,
            Some("data"),
            &opts(&["bind", "ro"]),
            vec![],
            vec![],
            Path::new("/b"),
        )
        .unwrap();
        assert_eq!(m.source.as_deref(), Some("/b/data"));
        assert!(m.bind && !m.recursive_bind);
        assert_eq!(m.bind_attr.set, libc::MOUNT_ATTR_RDONLY);
        let rel = plan_mount(
            "rel/x",
            Some("tmpfs"),
            None,
            &[],
            vec![],
            vec![],
            Path::new("/b"),
        );
        assert_eq!(rel.unwrap().destination, "/rel/x");
        assert!(plan_mount(
            "/x",
            Some("tmpfs"),
            None,
            &opts(&["idmap"]),
            vec![],
            vec![],
            Path::new("/b")
        )
        .is_err());
    }
}
