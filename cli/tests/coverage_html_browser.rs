//! The coverage page in a real browser: at a 1400 px wide window nothing sticks out
//! sideways (no horizontal scrolling). Runs Debian's chromium headless; `.ci/run` installs
//! it, and without it the test says so and skips.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test: a failing unwrap is a failing test

use std::path::PathBuf;
use std::process::Command;

use writ_cli::tools::coverage::{self, Format, RenderOpts, Results};

/// The browser: `$WRIT_CHROMIUM`, else the first of chromium / chromium-browser on PATH.
fn chromium() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("WRIT_CHROMIUM").filter(|p| !p.is_empty()) {
        return Some(PathBuf::from(p));
    }
    let path = std::env::var_os("PATH")?;
    for dir in std::env::split_paths(&path) {
        for name in ["chromium", "chromium-browser"] {
            let p = dir.join(name);
            if p.is_file() {
                return Some(p);
            }
        }
    }
    None
}

/// Added before `</body>`: after load, the viewport width, the document's scroll width and
/// the right edge of the element that reaches furthest, as JSON in a `<pre>`.
const PROBE: &str = r#"<script>
window.addEventListener('load', function () {
  var vw = document.documentElement.clientWidth, worst = null, max = 0;
  document.querySelectorAll('body *').forEach(function (e) {
    var r = e.getBoundingClientRect();
    if (r.width > 0 && r.right > max) { max = r.right; worst = e; }
  });
  var out = document.createElement('pre');
  out.id = 'writ-overflow';
  out.textContent = JSON.stringify({
    viewport: vw,
    scrollWidth: document.documentElement.scrollWidth,
    right: Math.ceil(max),
    worst: worst ? worst.tagName + ' ' + (worst.textContent || '').slice(0, 80) : ''
  });
  document.body.appendChild(out);
});
</script>
</body>"#;

struct Measure {
    viewport: u64,
    scroll_width: u64,
    right: u64,
    worst: String,
}

fn measure(browser: &PathBuf, html: &str, width: u32) -> Measure {
    let dir = tempfile::tempdir().unwrap();
    let page = dir.path().join("coverage.html");
    std::fs::write(&page, html.replacen("</body>", PROBE, 1)).unwrap();
    let profile = dir.path().join("profile");
    let out = Command::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--hide-scrollbars",
            "--no-first-run",
            &format!("--user-data-dir={}", profile.display()),
            &format!("--window-size={width},1000"),
            "--virtual-time-budget=5000",
            "--dump-dom",
        ])
        .arg(format!("file://{}", page.display()))
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", browser.display()));
    let dom = String::from_utf8_lossy(&out.stdout);
    let start = dom.find("<pre id=\"writ-overflow\">").unwrap_or_else(|| {
        panic!(
            "{} printed no measurement (exit {:?}): {}",
            browser.display(),
            out.status.code(),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    let rest = &dom[start + "<pre id=\"writ-overflow\">".len()..];
    let json = rest[..rest.find("</pre>").unwrap()]
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&");
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    Measure {
        viewport: v["viewport"].as_u64().unwrap(),
        scroll_width: v["scrollWidth"].as_u64().unwrap(),
        right: v["right"].as_u64().unwrap(),
        worst: v["worst"].as_str().unwrap_or("").to_owned(),
    }
}

#[test]
fn the_coverage_page_fits_1400_px() {
    let Some(browser) = chromium() else {
        eprintln!(
            "SKIP the_coverage_page_fits_1400_px: chromium is not installed \
             (apt-get install -y chromium; .ci/run installs it)"
        );
        return;
    };
    let empty = tempfile::tempdir().unwrap();
    let opts = RenderOpts {
        source_base: "file:///work/writ/".into(),
        ..RenderOpts::full()
    };
    let pages = [
        (
            "claimed",
            coverage::render(&coverage::claimed(), Format::Html, &opts),
        ),
        (
            "recorded, nothing run (every status column)",
            coverage::render(
                &coverage::recorded(Results::read(empty.path(), None)),
                Format::Html,
                &opts,
            ),
        ),
    ];
    for (what, html) in &pages {
        let m = measure(&browser, html, 1400);
        assert_eq!(m.viewport, 1400, "{what}: the window is not 1400 px wide");
        assert!(
            m.scroll_width <= m.viewport && m.right <= m.viewport,
            "{what}: the page is {} px wide in a {} px window; furthest right ({} px): {}",
            m.scroll_width,
            m.viewport,
            m.right,
            m.worst
        );
    }
    // The measurement itself can fail: a 2000 px element overflows.
    let wide = pages[0]
        .1
        .replacen("<h1>", "<div style=\"width:2000px\">x</div><h1>", 1);
    let m = measure(&browser, &wide, 1400);
    assert!(
        m.scroll_width > 1400 && m.right > 1400,
        "{}",
        m.scroll_width
    );
}
