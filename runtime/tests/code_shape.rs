//! The shape the runtime's code keeps (issue 8): no function of runtime/src longer than
//! [`MAX_FN_LINES`] lines, and no `Result<_, String>` (errors are typed). The sources are
//! read with a small lexer that knows Rust's comments, strings and char literals, so a
//! brace or a type inside them does not count.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test: a failing unwrap is a failing test

mod common;

use common::rs_files;
use std::path::Path;

/// The longest a function may be, from its `fn` line to its closing brace.
const MAX_FN_LINES: usize = 120;

/// The source with comments, string and char literals blanked (newlines kept), so
/// that what is left is code whose braces and brackets count.
fn code_only(src: &str) -> String {
    let c: Vec<char> = src.chars().collect();
    let mut out = String::with_capacity(src.len());
    let blank = |ch: char| if ch == '\n' { '\n' } else { ' ' };
    let mut i = 0;
    while i < c.len() {
        let next = c.get(i + 1).copied();
        if c[i] == '/' && next == Some('/') {
            while i < c.len() && c[i] != '\n' {
                out.push(' ');
                i += 1;
            }
        } else if c[i] == '/' && next == Some('*') {
            let mut depth = 0;
            loop {
                if i >= c.len() {
                    break;
                }
                if c[i] == '/' && c.get(i + 1) == Some(&'*') {
                    depth += 1;
                    out.push_str("  ");
                    i += 2;
                } else if c[i] == '*' && c.get(i + 1) == Some(&'/') {
                    depth -= 1;
                    out.push_str("  ");
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    out.push(blank(c[i]));
                    i += 1;
                }
            }
        } else if c[i] == 'r' && matches!(next, Some('"') | Some('#')) && !ident_before(&c, i) {
            // A raw string: r"..." or r#"..."#.
            let mut j = i + 1;
            let mut hashes = 0;
            while c.get(j) == Some(&'#') {
                hashes += 1;
                j += 1;
            }
            if c.get(j) != Some(&'"') {
                out.push(c[i]);
                i += 1;
                continue;
            }
            j += 1;
            while j < c.len() {
                if c[j] == '"' && (0..hashes).all(|k| c.get(j + 1 + k) == Some(&'#')) {
                    j += 1 + hashes;
                    break;
                }
                j += 1;
            }
            for &ch in &c[i..j.min(c.len())] {
                out.push(blank(ch));
            }
            i = j;
        } else if c[i] == '"' {
            out.push(' ');
            i += 1;
            while i < c.len() && c[i] != '"' {
                if c[i] == '\\' {
                    out.push(' ');
                    i += 1;
                }
                if i < c.len() {
                    out.push(blank(c[i]));
                    i += 1;
                }
            }
            out.push(' ');
            i += 1;
        } else if c[i] == '\'' {
            // A char literal ('x', '\n', '\u{..}') or a lifetime ('a).
            let end = if next == Some('\\') {
                (i + 2..c.len()).find(|&j| c[j] == '\'')
            } else if c.get(i + 2) == Some(&'\'') {
                Some(i + 2)
            } else {
                None
            };
            match end {
                Some(e) => {
                    for _ in i..=e {
                        out.push(' ');
                    }
                    i = e + 1;
                }
                None => {
                    out.push('\'');
                    i += 1;
                }
            }
        } else {
            out.push(c[i]);
            i += 1;
        }
    }
    out
}

fn ident_before(c: &[char], i: usize) -> bool {
    i > 0 && (c[i - 1].is_alphanumeric() || c[i - 1] == '_')
}

/// Every function with a body in `code` (see [`code_only`]): its name, first line and
/// length in lines.
fn functions(code: &str) -> Vec<(String, usize, usize)> {
    let bytes = code.as_bytes();
    let line_at = |pos: usize| code[..pos].matches('\n').count() + 1;
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(k) = code[from..].find("fn ") {
        let at = from + k;
        from = at + 3;
        if at > 0 && (bytes[at - 1].is_ascii_alphanumeric() || bytes[at - 1] == b'_') {
            continue;
        }
        let name: String = code[at + 3..]
            .chars()
            .take_while(|ch| ch.is_alphanumeric() || *ch == '_')
            .collect();
        if name.is_empty() {
            continue; // `fn(` of a function pointer type
        }
        // The body is the first `{` outside brackets; a `;` first means there is none.
        let mut depth = 0i32;
        let mut body = None;
        for (j, b) in bytes.iter().enumerate().skip(at) {
            match b {
                b'(' | b'[' => depth += 1,
                b')' | b']' => depth -= 1,
                b';' if depth == 0 => break,
                b'{' if depth == 0 => {
                    body = Some(j);
                    break;
                }
                _ => {}
            }
        }
        let Some(open) = body else { continue };
        let mut braces = 0i32;
        for (j, b) in bytes.iter().enumerate().skip(open) {
            match b {
                b'{' => braces += 1,
                b'}' => {
                    braces -= 1;
                    if braces == 0 {
                        let first = line_at(at);
                        out.push((name.clone(), first, line_at(j) - first + 1));
                        break;
                    }
                }
                _ => {}
            }
        }
    }
    out
}

/// `Result<..., String>` types in `code`: their line numbers.
fn string_results(code: &str) -> Vec<usize> {
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(k) = code[from..].find("Result<") {
        let at = from + k;
        from = at + 7;
        let mut depth = 1;
        let mut last_arg = String::new();
        for ch in code[at + 7..].chars() {
            match ch {
                '<' | '(' | '[' => depth += 1,
                '>' | ')' | ']' => {
                    depth -= 1;
                    if depth == 0 {
                        break;
                    }
                }
                ',' if depth == 1 => last_arg.clear(),
                _ if depth == 1 => last_arg.push(ch),
                _ => {}
            }
        }
        let t = last_arg.split_whitespace().collect::<String>();
        if t == "String" || t == "std::string::String" {
            out.push(code[..at].matches('\n').count() + 1);
        }
    }
    out
}

fn sources() -> Vec<(String, String)> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rs_files(&src, &mut files);
    assert!(files.len() > 20, "{files:?}");
    files
        .iter()
        .map(|f| {
            let rel = f.strip_prefix(&src).unwrap().display().to_string();
            (rel, code_only(&std::fs::read_to_string(f).unwrap()))
        })
        .collect()
}

#[test]
fn no_function_of_the_runtime_is_longer_than_the_limit() {
    let mut long = Vec::new();
    let mut count = 0;
    for (file, code) in sources() {
        for (name, line, len) in functions(&code) {
            count += 1;
            if len > MAX_FN_LINES {
                long.push(format!(
                    "runtime/src/{file}:{line}: fn {name} is {len} lines"
                ));
            }
        }
    }
    assert!(count > 500, "only {count} functions found");
    assert!(
        long.is_empty(),
        "functions over {MAX_FN_LINES} lines:\n{}",
        long.join("\n")
    );
}

#[test]
fn no_result_of_the_runtime_has_a_string_error() {
    let mut found = Vec::new();
    for (file, code) in sources() {
        for line in string_results(&code) {
            found.push(format!("runtime/src/{file}:{line}"));
        }
    }
    assert!(found.is_empty(), "Result<_, String>:\n{}", found.join("\n"));
}

#[test]
fn the_checkers_see_through_literals_and_comments() {
    let src = r##"
fn short() { let s = "}}}"; let c = '}'; let l: &'static str = r#"{"#; }
// fn commented() {
/* fn block() { */
fn two(x: [u8; 2]) -> Result<u8, String> {
    x[0]
}
type F = fn(u8) -> u8;
fn ok() -> Result<(), Vec<String>> { Ok(()) }
"##;
    let code = code_only(src);
    let fns = functions(&code);
    assert_eq!(
        fns,
        vec![
            ("short".to_string(), 2, 1),
            ("two".to_string(), 5, 3),
            ("ok".to_string(), 9, 1)
        ]
    );
    assert_eq!(string_results(&code), [5]);
}
