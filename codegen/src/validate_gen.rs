//! Generates `validate.rs`: one check function per named schema type, walking a
//! `serde_json::Value` and reporting every violation with its JSON pointer.
//!
//! The checks cover the whole schema (types, required members, enum values, integer ranges,
//! patterns, minItems), not only what the Rust types leave out, so that they also work on raw
//! JSON that does not deserialize. The runtime helpers they call (`Ctx`, messages) live in
//! `writ_spec::validation`.

use std::collections::BTreeSet;

use proc_macro2::TokenStream;
use quote::{format_ident, quote};

use crate::schema::{Kind, Model, Node};
use crate::types::int_type;

fn snake(name: &str) -> String {
    let mut out = String::new();
    for (i, c) in name.chars().enumerate() {
        if c.is_ascii_uppercase() {
            if i > 0 {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// The function name checking the named type `name`.
pub fn check_fn(name: &str) -> syn::Ident {
    format_ident!("check_{}", snake(name))
}

/// The range of the Rust integer type `rust`.
pub fn rust_range(rust: &str) -> (i128, i128) {
    match rust {
        "i8" => (i8::MIN.into(), i8::MAX.into()),
        "i16" => (i16::MIN.into(), i16::MAX.into()),
        "i32" => (i32::MIN.into(), i32::MAX.into()),
        "u8" => (0, u8::MAX.into()),
        "u16" => (0, u16::MAX.into()),
        "u32" => (0, u32::MAX.into()),
        "u64" => (0, u64::MAX.into()),
        _ => (i64::MIN.into(), i64::MAX.into()),
    }
}

struct Gen<'a> {
    /// The schemas' patterns (ECMA-262), as written.
    patterns: Vec<String>,
    /// Each of `patterns` in regex-lite syntax (see [`crate::pattern`]).
    translated: Vec<String>,
    depth: usize,
    /// Structs implementing `Default` (their absence parses to the zero value).
    defaults: &'a BTreeSet<String>,
}

impl Gen<'_> {
    /// Whether a missing member of this kind parses (to its zero value).
    fn has_zero_value(&self, node: &Node) -> bool {
        match &node.kind {
            Kind::Ref(name) => self.defaults.contains(name),
            Kind::Enum { .. } => false,
            _ => true,
        }
    }

    fn pattern_index(&mut self, p: &str) -> Result<usize, String> {
        if let Some(i) = self.patterns.iter().position(|x| x == p) {
            return Ok(i);
        }
        regress::Regex::new(p).map_err(|e| format!("pattern {p:?} does not compile: {e}"))?;
        let lite = crate::pattern::translate(p).map_err(|e| e.to_string())?;
        regex_lite::Regex::new(&lite).map_err(|e| {
            format!("pattern {p:?}: its translation {lite:?} does not compile with regex-lite: {e}")
        })?;
        self.patterns.push(p.to_owned());
        self.translated.push(lite);
        Ok(self.patterns.len() - 1)
    }

    fn node(&mut self, node: &Node, v: &syn::Ident) -> Result<TokenStream, String> {
        self.depth += 1;
        let d = self.depth;
        let out = match &node.kind {
            Kind::Any => quote! { let _ = #v; },
            Kind::Bool => quote! { cx.boolean(#v); },
            Kind::Number => quote! { cx.number(#v); },
            Kind::Integer { min, max } => {
                let rust = int_type(*min, *max).0;
                let (rmin, rmax) = rust_range(rust);
                let min = match min {
                    Some(m) if *m > rmin => quote!(Some(#m)),
                    _ => quote!(None),
                };
                let max = match max {
                    Some(m) if *m < rmax => quote!(Some(#m)),
                    _ => quote!(None),
                };
                quote! { cx.integer(#v, #rust, #min, #max); }
            }
            Kind::String { pattern } => match pattern {
                Some(p) => {
                    let i = self.pattern_index(p)?;
                    quote! { cx.string(#v, Some(#i)); }
                }
                None => quote! { cx.string(#v, None); },
            },
            Kind::Enum { values } => quote! {
                cx.one_of(#v, &[#(#values),*]);
            },
            Kind::Array { items, min_items } => {
                let x = format_ident!("x{d}");
                let item = self.node(items, &x)?;
                let min = match min_items {
                    Some(m) => {
                        let m = *m as usize;
                        quote! { cx.min_items(a.len(), #m); }
                    }
                    None => quote! {},
                };
                quote! {
                    match #v.as_array() {
                        None => cx.wrong_type(#v, "an array"),
                        Some(a) => {
                            #min
                            for (i, #x) in a.iter().enumerate() {
                                let mark = cx.enter_index(i);
                                #item
                                cx.leave(mark);
                            }
                        }
                    }
                }
            }
            Kind::Object {
                properties,
                required,
            } => {
                let mut props = Vec::new();
                for (key, sub) in properties {
                    let x = format_ident!("x{d}");
                    let body = self.node(sub, &x)?;
                    props.push(quote! {
                        if let Some(#x) = o.get(#key) {
                            let mark = cx.enter_key(#key);
                            #body
                            cx.leave(mark);
                        }
                    });
                }
                // Every member the schema defines, `Some(zero value)` for a required one
                // (`cx.members` reports the missing and, in a config, the unknown ones).
                let known: Vec<TokenStream> = properties
                    .iter()
                    .map(|(k, n)| {
                        if required.contains(k) {
                            let zero = self.has_zero_value(n);
                            quote!((#k, Some(#zero)))
                        } else {
                            quote!((#k, None))
                        }
                    })
                    .chain(
                        required
                            .iter()
                            .filter(|r| !properties.iter().any(|(k, _)| k == *r))
                            .map(|r| quote!((#r, Some(false)))),
                    )
                    .collect();
                quote! {
                    match #v.as_object() {
                        None => cx.wrong_type(#v, "an object"),
                        Some(o) => {
                            cx.members(o, &[#(#known),*]);
                            #(#props)*
                        }
                    }
                }
            }
            Kind::Map { value, key_pattern } => {
                let x = format_ident!("x{d}");
                let body = self.node(value, &x)?;
                let key_filter = match key_pattern {
                    Some(p) => {
                        let i = self.pattern_index(p)?;
                        quote! { if !cx.key_matches(k, #i) { continue; } }
                    }
                    None => quote! {},
                };
                quote! {
                    match #v.as_object() {
                        None => cx.wrong_type(#v, "an object"),
                        Some(o) => {
                            for (k, #x) in o {
                                #key_filter
                                let mark = cx.enter_key(k);
                                #body
                                cx.leave(mark);
                            }
                        }
                    }
                }
            }
            Kind::Ref(name) => {
                let f = check_fn(name);
                quote! { #f(#v, cx); }
            }
        };
        self.depth -= 1;
        Ok(out)
    }
}

/// The items of `validate.rs`.
pub fn generate(model: &Model, defaults: &BTreeSet<String>) -> Result<Vec<syn::Item>, String> {
    let mut gen = Gen {
        patterns: Vec::new(),
        translated: Vec::new(),
        depth: 0,
        defaults,
    };
    let mut fns = Vec::new();
    let v = format_ident!("v");
    for def in &model.definitions {
        let f = check_fn(&def.name);
        let body = gen.node(&def.node, &v)?;
        let doc = format!(" Checks a `{}` (schema `{}`).", def.name, def.location);
        fns.push(quote! {
            #[doc = #doc]
            pub fn #f(v: &Value, cx: &mut Ctx) {
                #body
            }
        });
    }
    let n = gen.patterns.len();
    let pats = &gen.patterns;
    let lite = &gen.translated;
    let file: syn::File = syn::parse2(quote! {
        use serde_json::Value;

        use crate::validation::Ctx;

        /// Every `pattern` of the schemas (ECMA-262), indexed by the checks below.
        pub const PATTERNS: [&str; #n] = [#(#pats),*];

        /// Each of [`PATTERNS`] in regex-lite syntax, matching exactly the same strings
        /// (translated by writ-codegen; `.` excludes every ECMA line terminator).
        pub const PATTERNS_REGEX_LITE: [&str; #n] = [#(#lite),*];

        #(#fns)*
    })
    .map_err(|e| format!("generated validation does not parse: {e}"))?;
    Ok(file.items)
}
