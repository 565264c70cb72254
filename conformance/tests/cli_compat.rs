//! runc's spellings that engines and people use: `ps ID aux` (bare ps options), `ps
//! --format json`, `run --no-subreaper`.

use std::time::{Duration, Instant};

use writ_conformance::for_each_runtime;

const T: Duration = Duration::from_secs(10);

#[test]
fn ps_takes_bare_ps_options_and_json() {
    for_each_runtime("ps-options", |ctx| {
        let b = ctx.bundle();
        b.set_sh("echo ready; exec sleep 30");
        let mut c = ctx.container(&b);
        c.create().ok();
        c.start().ok();
        let deadline = Instant::now() + T;
        while !c.stdout().contains("ready") {
            assert!(Instant::now() < deadline, "the program did not start");
            std::thread::sleep(Duration::from_millis(5));
        }
        let pid = c.pid.expect("pid file");
        // `ps ID aux`: BSD-style options for ps(1), header and the container's process.
        let aux = ctx.cmd(&["ps", &c.id, "aux"]);
        aux.ok();
        let header = aux.stdout.lines().next().unwrap_or_default();
        assert!(header.contains("USER") && header.contains("%CPU"), "{aux}");
        assert!(
            aux.stdout
                .lines()
                .skip(1)
                .any(|l| l.split_whitespace().nth(1) == Some(&pid.to_string())),
            "{aux}"
        );
        // The JSON form containerd's shim reads: the host pids.
        let json = ctx.cmd(&["ps", "--format", "json", &c.id]);
        json.ok();
        let pids: Vec<i64> = serde_json::from_str(json.stdout.trim()).unwrap();
        assert!(pids.contains(&(pid as i64)), "{json}");
        c.kill("KILL").ok();
        c.wait_exit(T);
    });
}

#[test]
fn run_accepts_no_subreaper() {
    for_each_runtime("run-no-subreaper", |ctx| {
        let b = ctx.bundle();
        b.set_sh("echo ran");
        let mut c = ctx.container(&b);
        let out = c.run(&["--no-subreaper"]);
        out.ok();
        assert!(
            out.stdout.contains("ran") || c.stdout().contains("ran"),
            "{out}"
        );
    });
}
