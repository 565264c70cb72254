//! The procedural macros behind `writ-macros` (`#[requirement]`, `#[verifies]`); use them
//! through `writ-macros`, whose documentation describes them. `#[verifies]` expands to code
//! that calls `writ_macros::__private`, so a crate using it depends on `writ-macros`.
//!
//! The list is read at compile time from `spec/requirements/*.toml` (or
//! `$WRIT_REQUIREMENTS_DIR`; see `list_dir` for how the compiled package finds it);
//! `retired.toml` there records ids the list has dropped, so that
//! naming one says when it was retired instead of suggesting an unrelated id.

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use proc_macro::TokenStream;
use proc_macro2::{Span, TokenStream as TokenStream2};
use quote::quote;
use syn::parse::{Parse, ParseStream};
use syn::punctuated::Punctuated;
use syn::{Item, LitStr, Token};

/// `#[requirement("id", ...)]`: this function / impl block / inline module fulfils the
/// listed requirements.
#[proc_macro_attribute]
pub fn requirement(attr: TokenStream, item: TokenStream) -> TokenStream {
    expand(Kind::Requirement, attr.into(), item.into()).into()
}

/// `#[verifies("id", ...)]`: this test (function or inline test module) proves the listed
/// requirements.
#[proc_macro_attribute]
pub fn verifies(attr: TokenStream, item: TokenStream) -> TokenStream {
    expand(Kind::Verifies, attr.into(), item.into()).into()
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Requirement,
    Verifies,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Requirement => "requirement",
            Kind::Verifies => "verifies",
        }
    }
    fn verb(self) -> &'static str {
        match self {
            Kind::Requirement => "Fulfils",
            Kind::Verifies => "Verifies",
        }
    }
}

/// The attribute's arguments: string literals separated by commas.
struct Ids(Vec<LitStr>);

impl Parse for Ids {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let list = Punctuated::<LitStr, Token![,]>::parse_terminated(input)?;
        Ok(Ids(list.into_iter().collect()))
    }
}

fn expand(kind: Kind, attr: TokenStream2, item: TokenStream2) -> TokenStream2 {
    match try_expand(kind, attr, item.clone()) {
        Ok(ts) => ts,
        Err(e) => {
            // Keep the item so that one bad attribute does not cascade into
            // "cannot find function" errors elsewhere.
            let err = e.to_compile_error();
            quote! { #err #item }
        }
    }
}

fn try_expand(kind: Kind, attr: TokenStream2, item: TokenStream2) -> syn::Result<TokenStream2> {
    let ids: Ids = syn::parse2(attr.clone()).map_err(|e| {
        syn::Error::new(
            e.span(),
            format!(
                "#[{}] takes requirement ids as string literals, e.g. #[{}(\"config.mounts.destination.absolute\")]: {e}",
                kind.name(),
                kind.name()
            ),
        )
    })?;
    if ids.0.is_empty() {
        let span = if attr.is_empty() {
            Span::call_site()
        } else {
            attr_span(&attr)
        };
        return Err(syn::Error::new(
            span,
            format!(
                "#[{}] needs at least one requirement id, e.g. #[{}(\"config.mounts.destination.absolute\")]",
                kind.name(),
                kind.name()
            ),
        ));
    }

    let mut item: Item = syn::parse2(item).map_err(|e| {
        syn::Error::new(
            e.span(),
            format!(
                "#[{}] can only be used on a function, an impl block or an inline module: {e}",
                kind.name()
            ),
        )
    })?;

    let list = load_list()?;

    let mut seen = HashSet::new();
    let mut errors: Option<syn::Error> = None;
    let mut docs = Vec::new();
    for lit in &ids.0 {
        let id = lit.value();
        if !seen.insert(id.clone()) {
            push_err(
                &mut errors,
                syn::Error::new(lit.span(), format!("requirement id `{id}` is listed twice")),
            );
            continue;
        }
        match list.entries.get(&id) {
            Some(entry) => docs.push(format!(
                " {} requirement `{id}` ({}, {}): {}",
                kind.verb(),
                entry.level,
                entry.location,
                entry.summary
            )),
            None => push_err(
                &mut errors,
                syn::Error::new(lit.span(), unknown_id_message(&id, &list)),
            ),
        }
    }
    if let Some(e) = errors {
        return Err(e);
    }

    // One expansion per compiler process makes the crate depend on the list files (the
    // compiler records every file read by include_bytes! in the dep-info); doing it once
    // keeps large lists from being embedded hundreds of times.
    let deps = dependency_consts(&list);

    match &mut item {
        Item::Fn(f) if kind == Kind::Verifies => {
            check_test_fn(f)?;
            add_docs(&mut f.attrs, &docs);
            *f.block = guarded_body(f, &ids.0, deps)?;
        }
        Item::Fn(f) => {
            add_docs(&mut f.attrs, &docs);
            if let Some(deps) = deps {
                // Placed inside the body: a sibling item is not allowed in an impl block.
                let stmts = &f.block.stmts;
                let new_block: syn::Block = syn::parse2(quote! {{ #deps #(#stmts)* }})?;
                *f.block = new_block;
            }
        }
        Item::Impl(i) if kind == Kind::Requirement => {
            add_docs(&mut i.attrs, &docs);
            if let Some(deps) = deps {
                return Ok(quote! { #item const _: () = { #deps }; });
            }
        }
        Item::Mod(m) if kind == Kind::Verifies => {
            return Err(syn::Error::new_spanned(
                &m.ident,
                "#[verifies] cannot be used on a module: a module has no outcome of its own; \
                 put it on the #[test] functions inside",
            ));
        }
        Item::Mod(m) => {
            add_docs(&mut m.attrs, &docs);
            match &mut m.content {
                Some((_, items)) => {
                    if let Some(deps) = deps {
                        items.push(Item::Verbatim(quote! { const _: () = { #deps }; }));
                    }
                }
                None => {
                    return Err(syn::Error::new_spanned(
                        &m.ident,
                        format!(
                            "#[{}] on `mod {};` is not supported: put it on the functions or impl blocks inside that file, or use an inline module",
                            kind.name(),
                            m.ident
                        ),
                    ))
                }
            }
        }
        other => {
            let what = describe(other);
            let allowed = match kind {
                Kind::Requirement => "a function, an impl block or an inline module",
                Kind::Verifies => "a #[test] function",
            };
            return Err(syn::Error::new(
                first_token_span(other),
                format!(
                    "#[{}] cannot be used on {what}; use it on {allowed}",
                    kind.name()
                ),
            ));
        }
    }
    Ok(quote! { #item })
}

/// `#[verifies]` must see the `#[test]` of its function: an attribute written above it is
/// expanded first, and `#[test]` expanded that way leaves no trace in the item.
fn check_test_fn(f: &syn::ItemFn) -> syn::Result<()> {
    let is =
        |a: &syn::Attribute, name: &str| a.path().segments.last().is_some_and(|s| s.ident == name);
    if let Some(a) = f.attrs.iter().find(|a| is(a, "should_panic")) {
        return Err(syn::Error::new_spanned(
            a,
            "#[verifies] on a #[should_panic] test is not supported: its outcome would be \
             recorded backwards; catch the expected failure inside the test instead",
        ));
    }
    if !f.attrs.iter().any(|a| is(a, "test")) {
        return Err(syn::Error::new_spanned(
            &f.sig.ident,
            format!(
                "#[verifies] can only be used on a test: `{}` has no #[test] below the \
                 attribute (write `#[verifies(..)]` above `#[test]`; an attribute above \
                 #[verifies] is expanded first and hides #[test] from it)",
                f.sig.ident
            ),
        ));
    }
    if f.sig.asyncness.is_some() && !matches!(f.sig.output, syn::ReturnType::Default) {
        return Err(syn::Error::new_spanned(
            &f.sig.output,
            "#[verifies] on an async test must return ()",
        ));
    }
    Ok(())
}

/// The test's body behind a guard that records its outcome (`writ_macros::results`).
fn guarded_body(
    f: &syn::ItemFn,
    ids: &[LitStr],
    deps: Option<TokenStream2>,
) -> syn::Result<syn::Block> {
    let name = f.sig.ident.to_string();
    let line = f.sig.ident.span().unwrap().line() as u32;
    let guard = syn::Ident::new("__writ_verifies", Span::mixed_site());
    let result = syn::Ident::new("__writ_result", Span::mixed_site());
    let stmts = &f.block.stmts;
    let start = quote! {
        #[allow(unused_mut)]
        let mut #guard = ::writ_macros::__private::Guard::start(
            &[#(#ids),*],
            ::core::module_path!(),
            #name,
            ::core::file!(),
            #line,
        );
    };
    let body = match &f.sig.output {
        syn::ReturnType::Default => quote! {{ #deps #start #(#stmts)* }},
        syn::ReturnType::Type(_, ty) => quote! {{
            #deps
            #start
            let #result: #ty = (|| -> #ty { #(#stmts)* })();
            #guard.returned(&#result);
            #result
        }},
    };
    syn::parse2(body)
}

fn push_err(acc: &mut Option<syn::Error>, e: syn::Error) {
    match acc {
        Some(a) => a.combine(e),
        None => *acc = Some(e),
    }
}

fn attr_span(attr: &TokenStream2) -> Span {
    attr.clone()
        .into_iter()
        .next()
        .map(|t| t.span())
        .unwrap_or_else(Span::call_site)
}

fn first_token_span(item: &Item) -> Span {
    quote!(#item)
        .into_iter()
        .next()
        .map(|t| t.span())
        .unwrap_or_else(Span::call_site)
}

fn add_docs(attrs: &mut Vec<syn::Attribute>, docs: &[String]) {
    if docs.is_empty() {
        return;
    }
    let has_docs = attrs.iter().any(|a| a.path().is_ident("doc"));
    if has_docs {
        attrs.push(syn::parse_quote!(#[doc = ""]));
    }
    for d in docs {
        attrs.push(syn::parse_quote!(#[doc = #d]));
    }
}

fn describe(item: &Item) -> &'static str {
    match item {
        Item::Const(_) => "a const item",
        Item::Enum(_) => "an enum",
        Item::ExternCrate(_) => "an extern crate item",
        Item::ForeignMod(_) => "an extern block",
        Item::Impl(_) => "an impl block",
        Item::Macro(_) => "a macro invocation",
        Item::Static(_) => "a static item",
        Item::Struct(_) => "a struct",
        Item::Trait(_) => "a trait",
        Item::TraitAlias(_) => "a trait alias",
        Item::Type(_) => "a type alias",
        Item::Union(_) => "a union",
        Item::Use(_) => "a use declaration",
        _ => "this item",
    }
}

// ---------------------------------------------------------------------------------------
// The requirements list
// ---------------------------------------------------------------------------------------

struct Entry {
    level: String,
    location: String,
    summary: String,
}

struct List {
    files: Vec<PathBuf>,
    entries: BTreeMap<String, Entry>,
    /// Ids the list has dropped: id -> (release that dropped it, its summary).
    retired: BTreeMap<String, (String, String)>,
}

#[derive(serde::Deserialize)]
struct FileDe {
    #[serde(default)]
    requirement: Vec<EntryDe>,
    #[serde(default)]
    retired: Vec<RetiredDe>,
}

/// An entry of `retired.toml`.
#[derive(serde::Deserialize)]
struct RetiredDe {
    id: String,
    retired_in: String,
    #[serde(default)]
    summary: String,
}

#[derive(serde::Deserialize)]
struct EntryDe {
    id: String,
    #[serde(default)]
    level: String,
    #[serde(default)]
    doc: String,
    #[serde(default)]
    anchor: String,
    #[serde(default)]
    summary: String,
}

type Signature = Vec<(PathBuf, Option<SystemTime>, u64)>;

static CACHE: Mutex<Option<(Signature, Arc<List>)>> = Mutex::new(None);
static DEPS_EMITTED: Mutex<Option<PathBuf>> = Mutex::new(None);

/// The directory of the list: `$WRIT_REQUIREMENTS_DIR`; else, from the package being
/// compiled, its own `requirements/` (writ-spec carries the list in its package, so that a
/// published writ-spec builds on its own) or the workspace's `../spec/requirements` (the
/// other packages of the workspace); else the workspace this crate was built in.
fn list_dir() -> PathBuf {
    if let Ok(dir) = std::env::var("WRIT_REQUIREMENTS_DIR") {
        if !dir.is_empty() {
            return PathBuf::from(dir);
        }
    }
    if let Ok(caller) = std::env::var("CARGO_MANIFEST_DIR") {
        let caller = Path::new(&caller);
        for dir in [
            caller.join("requirements"),
            caller.join("..").join("spec").join("requirements"),
        ] {
            if dir.join("config.toml").is_file() {
                return dir;
            }
        }
    }
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join("..")
        .join("spec")
        .join("requirements")
}

fn list_files(dir: &Path) -> syn::Result<Signature> {
    let rd = std::fs::read_dir(dir).map_err(|e| {
        syn::Error::new(
            Span::call_site(),
            format!(
                "cannot read the requirements list directory {}: {e}",
                dir.display()
            ),
        )
    })?;
    let mut sig = Vec::new();
    for ent in rd.flatten() {
        let path = ent.path();
        if path.extension().and_then(|x| x.to_str()) != Some("toml") {
            continue;
        }
        let meta = ent.metadata().ok();
        let path = path.canonicalize().unwrap_or(path);
        sig.push((
            path,
            meta.as_ref().and_then(|m| m.modified().ok()),
            meta.map(|m| m.len()).unwrap_or(0),
        ));
    }
    sig.sort();
    Ok(sig)
}

fn load_list() -> syn::Result<Arc<List>> {
    let dir = list_dir();
    let sig = list_files(&dir)?;
    let mut cache = CACHE.lock().unwrap_or_else(|p| p.into_inner());
    if let Some((s, list)) = cache.as_ref() {
        if *s == sig {
            return Ok(list.clone());
        }
    }
    let mut entries = BTreeMap::new();
    let mut retired = BTreeMap::new();
    for (path, _, _) in &sig {
        let text = std::fs::read_to_string(path).map_err(|e| {
            syn::Error::new(
                Span::call_site(),
                format!("cannot read requirements file {}: {e}", path.display()),
            )
        })?;
        let parsed: FileDe = toml::from_str(&text).map_err(|e| {
            syn::Error::new(
                Span::call_site(),
                format!("requirements file {} is not valid: {e}", path.display()),
            )
        })?;
        for r in parsed.retired {
            retired.insert(r.id, (r.retired_in, r.summary));
        }
        for e in parsed.requirement {
            let location = if e.anchor.is_empty() {
                e.doc
            } else {
                format!("{}#{}", e.doc, e.anchor)
            };
            entries.insert(
                e.id,
                Entry {
                    level: e.level,
                    location,
                    summary: e.summary,
                },
            );
        }
    }
    let list = Arc::new(List {
        files: sig.iter().map(|(p, _, _)| p.clone()).collect(),
        entries,
        retired,
    });
    *cache = Some((sig, list.clone()));
    Ok(list)
}

fn dependency_consts(list: &List) -> Option<TokenStream2> {
    // Once per compiler process (= per crate being compiled) and list directory.
    let dir = list_dir();
    let mut emitted = DEPS_EMITTED.lock().unwrap_or_else(|p| p.into_inner());
    if emitted.as_deref() == Some(dir.as_path()) {
        return None;
    }
    *emitted = Some(dir);
    let includes = list.files.iter().map(|p| {
        let s = p.to_string_lossy().into_owned();
        quote! { const _: &[u8] = include_bytes!(#s); }
    });
    Some(quote! { #(#includes)* })
}

fn unknown_id_message(id: &str, list: &List) -> String {
    if let Some((release, summary)) = list.retired.get(id) {
        let what = if summary.is_empty() {
            String::new()
        } else {
            format!(" (it was: {summary})")
        };
        return format!(
            "requirement id `{id}` was retired in {release}: that release of the spec no longer \
             has the sentence{what}; drop the id or name the requirement that replaced it"
        );
    }
    if list.entries.is_empty() {
        return format!(
            "unknown requirement id `{id}`: the requirements list ({}) has no entries",
            list_dir().display()
        );
    }
    let near = nearest(id, list.entries.keys().map(String::as_str), 3);
    let mut msg = format!("unknown requirement id `{id}`");
    match near.as_slice() {
        [] => msg.push_str(" (no similar id in the requirements list)"),
        [one] => msg.push_str(&format!("; did you mean `{one}`?")),
        many => {
            let list: Vec<String> = many.iter().map(|s| format!("`{s}`")).collect();
            msg.push_str(&format!("; did you mean one of {}?", list.join(", ")));
        }
    }
    msg
}

/// The up to `n` known ids closest to `id`, best first.
fn nearest<'a>(id: &str, known: impl Iterator<Item = &'a str>, n: usize) -> Vec<&'a str> {
    let mut scored: Vec<(f64, &str)> = known
        .map(|k| {
            let lev = strsim::normalized_damerau_levenshtein(id, k);
            let jw = strsim::jaro_winkler(id, k);
            (lev.max(jw * 0.9), k)
        })
        .filter(|(s, _)| *s >= 0.6)
        .collect();
    scored.sort_by(|a, b| b.0.total_cmp(&a.0).then_with(|| a.1.cmp(b.1)));
    scored.truncate(n);
    scored.into_iter().map(|(_, k)| k).collect()
}

#[cfg(test)]
mod tests {
    use super::nearest;

    #[test]
    fn nearest_prefers_small_edits() {
        let known = [
            "config.mounts.destination.absolute",
            "config.mounts.source",
            "config.hostname.uts",
            "runtime.state.id",
        ];
        let got = nearest(
            "config.mounts.destinaton.absolute",
            known.iter().copied(),
            3,
        );
        assert_eq!(got.first(), Some(&"config.mounts.destination.absolute"));
        assert!(!got.contains(&"runtime.state.id"));
    }

    #[test]
    fn nearest_is_empty_for_unrelated() {
        let known = ["config.mounts.destination.absolute"];
        assert!(nearest("zzz", known.iter().copied(), 3).is_empty());
    }
}
