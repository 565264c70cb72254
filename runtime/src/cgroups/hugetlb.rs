//! The hugetlb controller (config-linux.md#huge-page-limits): one limit per huge page
//! size.
//!
//! v1: `hugetlb.<size>.limit_in_bytes`; v2: `hugetlb.<size>.max`. Where the kernel has
//! reservation accounting (`hugetlb.<size>.rsvd.limit_in_bytes` / `.rsvd.max`, Linux
//! 5.7+) the same limit is written there too, so that it holds at mmap time and a process
//! never gets SIGBUS on a fault of memory it reserved (the spec's preferred accounting);
//! the fault limit stays as well. A page size the host has no files for is an error
//! naming the size.

use std::path::Path;

use super::controller::Controller;
use super::fs::{has, write};
use super::CgroupError;
use crate::plan::ResourcesPlan;

const LIMITS: &str = "/linux/resources/hugepageLimits";

/// `hugetlb`.
pub struct Hugetlb;

/// Whether `s` has the form `<digits><K|M|G>B` (64KB, 2MB, 1GB): it becomes part of a
/// file name, so nothing else is let through.
fn valid_page_size(s: &str) -> bool {
    let Some(num) = s
        .strip_suffix("KB")
        .or_else(|| s.strip_suffix("MB"))
        .or_else(|| s.strip_suffix("GB"))
    else {
        return false;
    };
    !num.is_empty() && !num.starts_with('0') && num.bytes().all(|b| b.is_ascii_digit())
}

impl Hugetlb {
    /// Writes each limit to `<prefix><size>.<limit_suffix>` and, where the kernel has it,
    /// to `<prefix><size>.<rsvd_suffix>`.
    fn apply(dir: &Path, r: &ResourcesPlan, limit: &str, rsvd: &str) -> Result<(), CgroupError> {
        for (i, h) in r.hugepage_limits.iter().enumerate() {
            let field = format!("{LIMITS}/{i}/pageSize");
            if !valid_page_size(&h.page_size) {
                return Err(CgroupError::Value {
                    field,
                    controller: "hugetlb",
                    reason: format!(
                        "{:?} is not a page size of the form 2MB, 64KB, 1GB",
                        h.page_size
                    ),
                });
            }
            let file = format!("hugetlb.{}.{limit}", h.page_size);
            if !has(dir, &file) {
                return Err(CgroupError::unsupported(
                    field,
                    "hugetlb",
                    format!(
                        "this host has no {} huge pages ({} does not exist)",
                        h.page_size,
                        dir.join(&file).display()
                    ),
                ));
            }
            let field = format!("{LIMITS}/{i}/limit");
            let v = h.limit.to_string();
            write("hugetlb", &field, dir, &file, &v)?;
            let rsvd = format!("hugetlb.{}.{rsvd}", h.page_size);
            if has(dir, &rsvd) {
                write("hugetlb", &field, dir, &rsvd, &v)?;
            }
        }
        Ok(())
    }
}

impl Controller for Hugetlb {
    fn name(&self) -> &'static str {
        "hugetlb"
    }

    fn requested(&self, r: &ResourcesPlan) -> Option<&'static str> {
        (!r.hugepage_limits.is_empty()).then_some(LIMITS)
    }

    fn apply_v1(&self, dir: &Path, r: &ResourcesPlan) -> Result<(), CgroupError> {
        Self::apply(dir, r, "limit_in_bytes", "rsvd.limit_in_bytes")
    }

    #[writ_macros::requirement("config_linux.unified.v1_conversion")]
    fn apply_v2(&self, dir: &Path, r: &ResourcesPlan) -> Result<(), CgroupError> {
        Self::apply(dir, r, "max", "rsvd.max")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cgroups::tests::{files, read};

    fn plan(limits: &[(&str, u64)]) -> ResourcesPlan {
        ResourcesPlan {
            hugepage_limits: limits
                .iter()
                .map(|(s, l)| writ_spec::LinuxHugepageLimit {
                    page_size: s.to_string(),
                    limit: *l,
                    ..Default::default()
                })
                .collect(),
            ..Default::default()
        }
    }

    #[test]
    fn limits_go_to_the_fault_and_reservation_files() {
        let d = files(&["hugetlb.2MB.max", "hugetlb.2MB.rsvd.max", "hugetlb.1GB.max"]);
        let r = plan(&[("2MB", 4 << 20), ("1GB", 0)]);
        Hugetlb.apply_v2(d.path(), &r).unwrap();
        assert_eq!(read(&d, "hugetlb.2MB.max"), "4194304");
        assert_eq!(read(&d, "hugetlb.2MB.rsvd.max"), "4194304");
        assert_eq!(read(&d, "hugetlb.1GB.max"), "0");
        let d = files(&["hugetlb.2MB.limit_in_bytes"]);
        Hugetlb
            .apply_v1(d.path(), &plan(&[("2MB", 2 << 20)]))
            .unwrap();
        assert_eq!(read(&d, "hugetlb.2MB.limit_in_bytes"), "2097152");
    }

    #[test]
    fn an_unknown_or_malformed_page_size_is_an_error() {
        let d = files(&["hugetlb.2MB.max"]);
        let e = Hugetlb
            .apply_v2(d.path(), &plan(&[("2MB", 1), ("64KB", 1)]))
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("/linux/resources/hugepageLimits/1/pageSize"),
            "{e}"
        );
        assert!(e.contains("no 64KB huge pages"), "{e}");
        for bad in ["../../x", "2mb", "02MB", "MB", "2MB/x"] {
            let e = Hugetlb
                .apply_v2(d.path(), &plan(&[(bad, 1)]))
                .unwrap_err()
                .to_string();
            assert!(e.contains("not a page size"), "{bad}: {e}");
        }
    }
}
