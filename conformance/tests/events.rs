//! `events` (runc's command; the spec has no such operation) against writ and runc as the
//! oracle: `events --stats` prints one `{"type": "stats", "id", "data"}` line with runc's
//! field names and the container's real usage; `events --interval` streams stats lines
//! and an `"oom"` line when the OOM killer strikes (memory.oom_control's eventfd on v1,
//! memory.events on v2), and ends when the container stops.

use std::time::Duration;

use serde_json::{json, Value};
use writ_conformance::{for_each_runtime, scaled, Invoke, Kind};

const T: Duration = Duration::from_secs(10);

fn lines(stdout: &str) -> Vec<Value> {
    stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect()
}

/// crun has no `events` command (recorded as its deviation).
fn no_events_command(ctx: &writ_conformance::Ctx, out: &writ_conformance::Out) -> bool {
    let missing =
        ctx.kind() == Kind::Crun && !out.success() && out.text_lower().contains("unknown");
    if missing {
        ctx.deviation("crun has no events command");
    }
    missing
}

#[test]
fn events_stats_reports_the_usage_in_runcs_shape() {
    for_each_runtime("events-stats", |ctx| {
        let b = ctx.bundle();
        b.set_sh("i=0; while [ $i -lt 20000 ]; do i=$((i+1)); done; echo busy; sleep 600");
        let mut c = ctx.container(&b);
        c.create().ok();
        c.start().ok();
        let deadline = std::time::Instant::now() + scaled(T);
        while !c.stdout().contains("busy") {
            assert!(
                std::time::Instant::now() < deadline,
                "container never got busy"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        let out = ctx.cmd(&["events", "--stats", &c.id]);
        if no_events_command(ctx, &out) {
            return;
        }
        out.ok();
        let events = lines(&out.stdout);
        assert_eq!(events.len(), 1, "one line: {out}");
        let e = &events[0];
        assert_eq!(e["type"], "stats");
        assert_eq!(e["id"], c.id.as_str());
        let d = &e["data"];
        for key in ["cpu", "memory", "pids", "blkio", "hugetlb", "intel_rdt"] {
            assert!(d.get(key).is_some(), "data.{key} missing: {e}");
        }
        assert!(d.get("network_interfaces").is_some(), "{e}");
        assert!(
            d["cpu"]["usage"]["total"].as_u64() > Some(0),
            "cpu time: {e}"
        );
        assert!(
            d["memory"]["usage"]["usage"].as_u64() > Some(0),
            "memory: {e}"
        );
        assert!(
            d["memory"]["usage"]["limit"].as_u64() > Some(0),
            "limit: {e}"
        );
        assert!(d["memory"]["raw"].is_object(), "memory.stat: {e}");
        assert!(d["pids"]["current"].as_u64() >= Some(1), "pids: {e}");
        c.kill("KILL").ok();
        c.wait_exit(T);
        // A stopped container has no usage to report.
        ctx.cmd(&["events", "--stats", &c.id]).fails();
    });
}

#[test]
fn events_streams_stats_and_oom_until_the_container_stops() {
    for_each_runtime("events-stream-oom", |ctx| {
        let b = ctx.bundle();
        // After a second, one process grows without bound (tail keeps the newline-free
        // input in memory) and the OOM killer ends it; then the container exits.
        b.set_sh("sleep 1; head -c 200m /dev/zero | tail; sleep 1; exit 0");
        let mut c = ctx.container(&b);
        b.edit(|conf| {
            conf["linux"]["resources"] = json!({"memory": {"limit": 33554432, "swap": 33554432}})
        });
        c.create().ok();
        c.start().ok();
        let out = ctx.cmd_with(
            &["events", "--interval", "200ms", &c.id],
            Invoke {
                timeout: Some(scaled(Duration::from_secs(20))),
                ..Default::default()
            },
        );
        if no_events_command(ctx, &out) {
            return;
        }
        if out.timed_out && ctx.kind() == Kind::Runc {
            ctx.deviation("runc's events does not end when the container stops");
        } else {
            out.ok();
        }
        let events = lines(&out.stdout);
        let stats = events.iter().filter(|e| e["type"] == "stats").count();
        assert!(stats >= 2, "stats every 200ms: {out}");
        assert!(
            events
                .iter()
                .any(|e| e["type"] == "oom" && e["id"] == c.id.as_str()),
            "an oom event: {out}"
        );
    });
}
