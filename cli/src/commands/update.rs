//! `writ update [-r FILE|-] [runc's flags] ID`: [`writ::Container::update`]. `-r` takes
//! runc's document (`linux.resources` as JSON; `-` reads stdin); each flag sets one field
//! instead (runc ignores the flags when `-r` is given; writ refuses the mix).

use serde_json::{json, Value};
use writ::{parse_bytes, Container};

use super::GlobalOpts;

#[derive(Debug, Clone, clap::Args)]
pub struct UpdateArgs {
    /// A JSON file of linux.resources to apply, or - for stdin.
    #[arg(long, short = 'r', value_name = "FILE")]
    pub resources: Option<std::path::PathBuf>,
    /// Memory limit in bytes (units k, m, g accepted; -1 for none).
    #[arg(long, value_name = "BYTES", allow_hyphen_values = true)]
    pub memory: Option<String>,
    /// Memory plus swap limit in bytes (-1 for unlimited swap).
    #[arg(long, value_name = "BYTES", allow_hyphen_values = true)]
    pub memory_swap: Option<String>,
    /// Memory soft limit in bytes.
    #[arg(long, value_name = "BYTES", allow_hyphen_values = true)]
    pub memory_reservation: Option<String>,
    /// Kernel memory limit (obsolete; refused: see writ resources).
    #[arg(long, value_name = "BYTES", allow_hyphen_values = true)]
    pub kernel_memory: Option<String>,
    /// Kernel TCP buffer limit in bytes (cgroup v1).
    #[arg(long, value_name = "BYTES", allow_hyphen_values = true)]
    pub kernel_memory_tcp: Option<String>,
    /// CPU shares (relative weight).
    #[arg(long)]
    pub cpu_share: Option<u64>,
    /// CFS quota in µs per period.
    #[arg(long, allow_hyphen_values = true)]
    pub cpu_quota: Option<i64>,
    /// CFS period in µs.
    #[arg(long)]
    pub cpu_period: Option<u64>,
    /// Real-time runtime in µs per period (cgroup v1).
    #[arg(long, allow_hyphen_values = true)]
    pub cpu_rt_runtime: Option<i64>,
    /// Real-time period in µs (cgroup v1).
    #[arg(long)]
    pub cpu_rt_period: Option<u64>,
    /// CPUs to use (a list such as 0-2,4).
    #[arg(long)]
    pub cpuset_cpus: Option<String>,
    /// Memory nodes to use.
    #[arg(long)]
    pub cpuset_mems: Option<String>,
    /// Maximum number of processes (0 is a limit; -1 for none).
    #[arg(long, allow_hyphen_values = true)]
    pub pids_limit: Option<i64>,
    /// Block I/O weight, 10 to 1000.
    #[arg(long)]
    pub blkio_weight: Option<u16>,
    /// Intel RDT L3 cache schema line.
    #[arg(long)]
    pub l3_cache_schema: Option<String>,
    /// Intel RDT memory bandwidth schema line.
    #[arg(long)]
    pub mem_bw_schema: Option<String>,
    /// The container id.
    pub id: String,
}

pub fn run(global: &GlobalOpts, args: UpdateArgs) -> i32 {
    let result = patch(&args).and_then(|p| {
        Container::load(&global.root(), &args.id)
            .and_then(|mut c| c.update(&p))
            .map_err(|e| e.to_string())
    });
    super::finish("update", result.map(|()| 0))
}

/// The update as a JSON object at /linux.
fn patch(a: &UpdateArgs) -> Result<Value, String> {
    let bytes = |flag: &str, v: &Option<String>| -> Result<Option<i64>, String> {
        v.as_deref()
            .map(|s| parse_bytes(s).map_err(|e| format!("--{flag}: {e}")))
            .transpose()
    };
    let mut resources = json!({
        "memory": {
            "limit": bytes("memory", &a.memory)?,
            "swap": bytes("memory-swap", &a.memory_swap)?,
            "reservation": bytes("memory-reservation", &a.memory_reservation)?,
            "kernel": bytes("kernel-memory", &a.kernel_memory)?,
            "kernelTCP": bytes("kernel-memory-tcp", &a.kernel_memory_tcp)?,
        },
        "cpu": {
            "shares": a.cpu_share, "quota": a.cpu_quota, "period": a.cpu_period,
            "realtimeRuntime": a.cpu_rt_runtime, "realtimePeriod": a.cpu_rt_period,
            "cpus": a.cpuset_cpus, "mems": a.cpuset_mems,
        },
        "pids": {"limit": a.pids_limit},
        "blockIO": {"weight": a.blkio_weight},
    });
    let mut rdt = json!({"l3CacheSchema": a.l3_cache_schema, "memBwSchema": a.mem_bw_schema});
    let flags = prune(&mut resources) | prune(&mut rdt);
    let mut out = json!({});
    if let Some(file) = &a.resources {
        if flags {
            return Err("give either --resources or the resource flags, not both".into());
        }
        out["resources"] = read_json(file)?;
    } else if !flags {
        return Err("nothing to update: give --resources FILE|- or a resource flag".into());
    }
    for (k, v) in [("resources", resources), ("intelRdt", rdt)] {
        if v.as_object().is_some_and(|o| !o.is_empty()) {
            out[k] = v;
        }
    }
    Ok(out)
}

/// Drops the nulls (flags not given) and the objects left empty; whether anything is left.
fn prune(v: &mut Value) -> bool {
    if let Value::Object(o) = v {
        o.retain(|_, x| prune(x));
        !o.is_empty()
    } else {
        !v.is_null()
    }
}

fn read_json(file: &std::path::Path) -> Result<Value, String> {
    let data = if file.as_os_str() == "-" {
        let mut s = Vec::new();
        std::io::Read::read_to_end(&mut std::io::stdin(), &mut s).map(|_| s)
    } else {
        std::fs::read(file)
    }
    .map_err(|e| format!("reading {}: {e}", file.display()))?;
    serde_json::from_slice(&data).map_err(|e| format!("{}: not JSON: {e}", file.display()))
}
