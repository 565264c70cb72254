//! runc's `update` flags as clap arguments (`writ update`, cli/src/commands/update.rs),
//! becoming a [`writ::ResourcesUpdate`].

use writ::{parse_bytes, ResourcesUpdate};

/// runc's `update` flags.
#[derive(Debug, Clone, clap::Args)]
pub struct UpdateFlags {
    #[arg(
        long,
        short = 'r',
        value_name = "FILE",
        help = "linux.resources as JSON (- for stdin)"
    )]
    pub resources: Option<std::path::PathBuf>,
    #[arg(long, value_parser = parse_bytes, allow_hyphen_values = true, help = "Memory limit, bytes (64m, 1g; -1: none)")]
    pub memory: Option<i64>,
    #[arg(long, value_parser = parse_bytes, allow_hyphen_values = true, help = "Memory plus swap, bytes (-1: unlimited swap)")]
    pub memory_swap: Option<i64>,
    #[arg(long, value_parser = parse_bytes, allow_hyphen_values = true, help = "Memory soft limit, bytes")]
    pub memory_reservation: Option<i64>,
    #[arg(long, value_parser = parse_bytes, allow_hyphen_values = true, help = "Kernel memory limit (obsolete: refused)")]
    pub kernel_memory: Option<i64>,
    #[arg(long, value_parser = parse_bytes, allow_hyphen_values = true, help = "Kernel TCP buffer limit, bytes (cgroup v1)")]
    pub kernel_memory_tcp: Option<i64>,
    #[arg(long, help = "CPU shares (relative weight)")]
    pub cpu_share: Option<u64>,
    #[arg(long, allow_hyphen_values = true, help = "CFS quota, µs per period")]
    pub cpu_quota: Option<i64>,
    #[arg(long, help = "CFS period, µs")]
    pub cpu_period: Option<u64>,
    #[arg(
        long,
        allow_hyphen_values = true,
        help = "Real-time runtime, µs per period (cgroup v1)"
    )]
    pub cpu_rt_runtime: Option<i64>,
    #[arg(long, help = "Real-time period, µs (cgroup v1)")]
    pub cpu_rt_period: Option<u64>,
    #[arg(long, help = "CPUs to use (0-2,4)")]
    pub cpuset_cpus: Option<String>,
    #[arg(long, help = "Memory nodes to use")]
    pub cpuset_mems: Option<String>,
    #[arg(
        long,
        allow_hyphen_values = true,
        help = "Process limit (0 is a limit; -1: none)"
    )]
    pub pids_limit: Option<i64>,
    #[arg(long, help = "Block I/O weight, 10 to 1000")]
    pub blkio_weight: Option<u16>,
    #[arg(long, help = "Intel RDT L3 cache schema line")]
    pub l3_cache_schema: Option<String>,
    #[arg(long, help = "Intel RDT memory bandwidth schema line")]
    pub mem_bw_schema: Option<String>,
}

impl From<UpdateFlags> for ResourcesUpdate {
    fn from(a: UpdateFlags) -> ResourcesUpdate {
        ResourcesUpdate {
            resources: a.resources,
            memory: a.memory,
            memory_swap: a.memory_swap,
            memory_reservation: a.memory_reservation,
            kernel_memory: a.kernel_memory,
            kernel_memory_tcp: a.kernel_memory_tcp,
            cpu_share: a.cpu_share,
            cpu_quota: a.cpu_quota,
            cpu_period: a.cpu_period,
            cpu_rt_runtime: a.cpu_rt_runtime,
            cpu_rt_period: a.cpu_rt_period,
            cpuset_cpus: a.cpuset_cpus,
            cpuset_mems: a.cpuset_mems,
            pids_limit: a.pids_limit,
            blkio_weight: a.blkio_weight,
            l3_cache_schema: a.l3_cache_schema,
            mem_bw_schema: a.mem_bw_schema,
        }
    }
}
