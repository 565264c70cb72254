//! The self-contained HTML page: summary bars, then one row per requirement with an anchor
//! (`coverage.html#<id>`), a link to the line of the spec's sentence (with its fingerprint;
//! beside it our summary, never the spec's text) and links to the handler and test lines.
//! Filters by status, level, document and text; it fits a 1400 px window without sideways
//! scrolling (checked in a headless browser by `cli/tests/coverage_html_browser.rs`).

use std::fmt::Write as _;

use writ_spec::requirements::{Level, DOCS, SPEC_VERSION};

use super::render::{columns, loc, RenderOpts};
use super::results::{Results, TestState};
use super::{Counts, Coverage, Row, Status};
use crate::trace::Use;

const HTML_TEMPLATE: &str = include_str!("../../../assets/coverage.html");

fn esc(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&#39;"),
            c => o.push(c),
        }
    }
    o
}

fn bar(c: &Counts) -> String {
    let total = c.total().max(1);
    let mut s = String::from("<div class=\"bar\">");
    for st in Status::ALL {
        let n = c.get(st);
        if n == 0 {
            continue;
        }
        let pct = (n as f64) * 100.0 / (total as f64);
        let _ = write!(
            s,
            "<span class=\"seg s-{}\" style=\"width:{pct:.3}%\" title=\"{}: {n}\"></span>",
            st.as_str(),
            st.label()
        );
    }
    s.push_str("</div>");
    s
}

fn summary_table(first: &str, rows: &[(String, Counts)], cols: &[Status]) -> String {
    let mut h = format!(
        "<table class=\"sum\"><thead><tr><th class=\"name\">{first}</th><th class=\"barcol\">Status</th>"
    );
    for s in cols {
        let _ = write!(h, "<th class=\"n\">{}</th>", s.label());
    }
    h.push_str("<th class=\"n\">Total</th></tr></thead><tbody>");
    for (name, c) in rows {
        let _ = write!(
            h,
            "<tr><td class=\"name\">{}</td><td class=\"barcol\">{}</td>",
            esc(name),
            bar(c)
        );
        for s in cols {
            let _ = write!(h, "<td class=\"n\">{}</td>", c.get(*s));
        }
        let _ = write!(h, "<td class=\"n\"><b>{}</b></td></tr>", c.total());
    }
    h.push_str("</tbody></table>");
    h
}

fn source_link(base: &str, u: &Use) -> String {
    format!(
        "<a href=\"{}{}#L{}\" title=\"{}\"><code>{}</code></a>",
        esc(base),
        esc(u.file),
        u.line,
        esc(u.item),
        esc(&loc(u))
    )
}

fn handlers(base: &str, v: &[&Use]) -> String {
    if v.is_empty() {
        return "<span class=\"none\">&ndash;</span>".into();
    }
    v.iter()
        .map(|u| format!("<div class=\"use\">{}</div>", source_link(base, u)))
        .collect()
}

fn tests(base: &str, v: &[(&Use, TestState)]) -> String {
    if v.is_empty() {
        return "<span class=\"none\">&ndash;</span>".into();
    }
    v.iter()
        .map(|(u, s)| {
            let class = match s {
                TestState::Passed { .. } => "t-passed",
                TestState::Failed { .. } => "t-failed",
                TestState::NotRun { .. } => "t-not-run",
            };
            let detail = match s.detail() {
                "" => s.as_str().to_owned(),
                d => format!("{}: {d}", s.as_str()),
            };
            format!(
                "<div class=\"use {class}\"><span class=\"dot\" title=\"{}\"></span>{}</div>",
                esc(&detail),
                source_link(base, u)
            )
        })
        .collect()
}

fn row_html(r: &Row, base: &str) -> String {
    let status = match (r.status, r.req.waived) {
        (Status::Waived, Some(why)) => format!(
            "<span class=\"pill s-waived\">waived</span><div class=\"why\">{}</div>",
            esc(why)
        ),
        (s, _) => format!(
            "<span class=\"pill s-{}\">{}</span>",
            s.as_str(),
            s.as_str()
        ),
    };
    let line = if r.req.line > 0 {
        format!("{}:{}", r.req.doc, r.req.line)
    } else {
        r.req.doc.to_owned()
    };
    format!(
        "<tr id=\"{id}\" data-status=\"{st}\" data-doc=\"{doc}\" data-level=\"{lvl}\">\
         <td>{status}</td><td class=\"lvl\">{lvl}</td>\
         <td><a class=\"anchor\" href=\"#{id}\"><code class=\"id\">{id}</code></a>\
         <div class=\"summary\">{summ}</div></td>\
         <td><a href=\"{sentence}\" title=\"the sentence at {line} of runtime-spec {ver}\">{line}</a>\
         <div class=\"fp\"><a href=\"{url}\">#{anchor}</a> \
         <span title=\"fingerprint of the spec's sentence (writ-codegen requirements --list)\">{fp}</span></div></td>\
         <td>{h}</td><td>{t}</td></tr>",
        id = esc(r.req.id),
        st = r.status.as_str(),
        doc = esc(r.req.doc),
        lvl = r.req.level.as_str(),
        summ = esc(r.req.summary),
        sentence = esc(&r.req.sentence_url()),
        line = esc(&line),
        ver = SPEC_VERSION,
        url = esc(&r.req.url()),
        anchor = esc(r.req.anchor),
        fp = esc(r.req.fingerprint),
        h = handlers(base, &r.handlers),
        t = tests(base, &r.tests),
    )
}

/// A self-contained HTML page: summary bars per document and level, the table, filters.
pub fn render_html(cov: &Coverage, opts: &RenderOpts) -> String {
    let cols = columns(cov);
    let mut docs: Vec<(String, Counts)> = cov
        .by_doc()
        .into_iter()
        .map(|(d, c)| (d.to_owned(), c))
        .collect();
    docs.push(("All documents".to_owned(), cov.totals()));
    let levels: Vec<(String, Counts)> = cov
        .by_level()
        .into_iter()
        .map(|(l, c)| (l.as_str().to_owned(), c))
        .collect();
    let summary = format!(
        "{}{}",
        summary_table("Document", &docs, &cols),
        summary_table("Level", &levels, &cols)
    );

    let totals = cov.totals();
    let mut filters = String::new();
    for s in &cols {
        let _ = write!(
            filters,
            "<label class=\"chip s-{0}-t\"><input type=\"checkbox\" data-status=\"{0}\" checked> {1} <span class=\"cnt\">{2}</span></label>",
            s.as_str(),
            s.label(),
            totals.get(*s)
        );
    }
    let mut level_options = String::from(
        "<option value=\"\">all levels</option>\
         <option value=\"MUST,MUST NOT,REQUIRED\">MUST, MUST NOT, REQUIRED</option>",
    );
    for l in Level::ALL {
        let _ = write!(
            level_options,
            "<option value=\"{0}\">{0}</option>",
            l.as_str()
        );
    }
    let mut doc_options = String::new();
    for d in DOCS {
        let _ = write!(doc_options, "<option value=\"{0}\">{0}</option>", esc(d));
    }
    let mut rows = String::new();
    if !opts.summary {
        for r in &cov.rows {
            rows.push_str(&row_html(r, &opts.source_base));
        }
    }
    let means = match cov.results {
        Results::Assumed => "verified: implemented and proven by a tagged test (CI checks that the test passed in its recorded run)",
        Results::Recorded(_) => "verified: implemented and a tagged test passed in the last recorded run",
    };
    HTML_TEMPLATE
        .replace("{{SPEC_VERSION}}", SPEC_VERSION)
        .replace(
            "{{MANDATORY}}",
            &format!(
                "{} of {}",
                cov.ratchet_count(),
                cov.linux_mandatory().count()
            ),
        )
        .replace("{{RESULTS}}", &esc(&cov.results.describe()))
        .replace("{{MEANS}}", means)
        .replace("{{SUMMARY}}", &summary)
        .replace("{{FILTERS}}", &filters)
        .replace("{{LEVEL_OPTIONS}}", &level_options)
        .replace("{{DOC_OPTIONS}}", &doc_options)
        .replace("{{ROWS}}", &rows)
        .replace("{{TABLE_CLASS}}", if opts.summary { "hidden" } else { "" })
}
