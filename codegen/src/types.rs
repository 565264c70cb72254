//! Rust types from the normalised model, through typify, then tidied into API that reads like
//! hand-written Rust.

use serde_json::{json, Map, Value};

use crate::schema::{Kind, Model, Node};

/// The Rust integer type (and its JSON-schema `format`) used for an integer node.
///
/// Exact ranges of the spec's fixed-width aliases map to that width. Other bounded
/// non-negative ranges (FileMode 0-511, percent 0-100) get `u32`/`u64` so that values real
/// runtimes accept (podman's FileMode 0o20666) still parse, and validation reports the range.
/// Unbounded integers are `i64`.
pub fn int_type(min: Option<i128>, max: Option<i128>) -> (&'static str, &'static str) {
    const EXACT: &[(i128, i128, &str, &str)] = &[
        (i8::MIN as i128, i8::MAX as i128, "i8", "int8"),
        (i16::MIN as i128, i16::MAX as i128, "i16", "int16"),
        (i32::MIN as i128, i32::MAX as i128, "i32", "int32"),
        (i64::MIN as i128, i64::MAX as i128, "i64", "int64"),
        (0, u8::MAX as i128, "u8", "uint8"),
        (0, u16::MAX as i128, "u16", "uint16"),
        (0, u32::MAX as i128, "u32", "uint32"),
        (0, u64::MAX as i128, "u64", "uint64"),
    ];
    if let (Some(lo), Some(hi)) = (min, max) {
        if let Some((_, _, rust, fmt)) = EXACT.iter().find(|(l, h, _, _)| *l == lo && *h == hi) {
            return (rust, fmt);
        }
        if lo >= 0 && hi <= u32::MAX as i128 {
            return ("u32", "uint32");
        }
        if lo >= 0 && hi <= u64::MAX as i128 {
            return ("u64", "uint64");
        }
    }
    ("i64", "int64")
}

fn node_schema(node: &Node) -> Value {
    let mut v = match &node.kind {
        Kind::Any => json!({}),
        Kind::Bool => json!({"type": "boolean"}),
        Kind::Number => json!({"type": "number", "format": "double"}),
        Kind::Integer { min, max } => json!({"type": "integer", "format": int_type(*min, *max).1}),
        Kind::String { .. } => json!({"type": "string"}),
        Kind::Enum { values } => json!({"type": "string", "enum": values}),
        Kind::Array { items, .. } => json!({"type": "array", "items": node_schema(items)}),
        Kind::Object {
            properties,
            required,
        } => {
            let mut props = Map::new();
            for (k, n) in properties {
                props.insert(k.clone(), node_schema(n));
            }
            json!({"type": "object", "properties": props, "required": required})
        }
        Kind::Map { value, .. } => match value.kind {
            Kind::Any => json!({"type": "object"}),
            _ => json!({"type": "object", "additionalProperties": node_schema(value)}),
        },
        Kind::Ref(name) => json!({"$ref": format!("#/definitions/{name}")}),
    };
    if let (Some(d), Some(obj)) = (&node.description, v.as_object_mut()) {
        obj.insert("description".into(), Value::String(d.clone()));
    }
    v
}

/// Values runc accepts beyond the schema's closed string sets, by schema location: the
/// generated Rust enum also has a variant for each, so that configs real engines write still
/// parse and write back unchanged. Only the Rust types get them: the generated validation
/// keeps the schema's own `enum`, so `writ validate` still reports these values as outside
/// the schema. Each entry: `(location, extra values, reason)`.
pub const RUNC_ENUM_EXTENSIONS: &[(&str, &[&str], &str)] = &[(
    "defs-linux.json#/definitions/RootfsPropagation",
    &["rprivate", "rshared", "rslave", "runbindable"],
    "runc applies these with MS_REC, and containerd's CRI writes \"rshared\" \
     (Bidirectional hostPath propagation) and \"rslave\" (HostToContainer) for Kubernetes pods",
)];

/// The extra values [`RUNC_ENUM_EXTENSIONS`] lists for the definition at `location`.
pub fn enum_extension(location: &str) -> Option<(&'static [&'static str], &'static str)> {
    RUNC_ENUM_EXTENSIONS
        .iter()
        .find(|(loc, _, _)| *loc == location)
        .map(|(_, values, reason)| (*values, *reason))
}

/// The single bundled JSON schema handed to typify.
pub fn typify_input(model: &Model) -> Value {
    let mut defs = Map::new();
    for d in &model.definitions {
        let mut schema = node_schema(&d.node);
        if let Some((extra, _)) = enum_extension(&d.location) {
            if let Some(Value::Array(values)) = schema.get_mut("enum") {
                values.extend(extra.iter().map(|v| Value::String((*v).to_owned())));
            }
        }
        defs.insert(d.name.clone(), schema);
    }
    json!({"definitions": defs})
}

/// Run typify over the bundled schema.
pub fn typify(model: &Model) -> Result<proc_macro2::TokenStream, String> {
    let root: schemars::schema::RootSchema =
        serde_json::from_value(typify_input(model)).map_err(|e| format!("bundled schema: {e}"))?;
    let mut settings = typify::TypeSpaceSettings::default();
    settings
        .with_derive("PartialEq".to_owned())
        .with_struct_builder(false)
        .with_map_type("::std::collections::BTreeMap");
    let mut space = typify::TypeSpace::new(&settings);
    space
        .add_root_schema(root)
        .map_err(|e| format!("typify: {e}"))?;
    Ok(space.to_stream())
}

// ---------------------------------------------------------------------------------------------
// Post-processing of typify's output.

use std::collections::{BTreeMap, BTreeSet};

use quote::quote;
use syn::visit_mut::VisitMut;

use crate::docs::Docs;
use crate::schema::Definition;

/// One generated output file: its module name and items.
pub struct TypeFiles {
    /// `(module name, items)`, e.g. `("config", [...])`.
    pub modules: Vec<(String, Vec<syn::Item>)>,
    /// Names of the generated structs that implement `Default`.
    pub defaults: BTreeSet<String>,
}

/// The `rename` of a `#[serde(...)]` attribute.
fn serde_rename(attr: &syn::Attribute) -> Option<String> {
    if !attr.path().is_ident("serde") {
        return None;
    }
    let mut name = None;
    let _ = attr.parse_nested_meta(|meta| {
        if meta.path.is_ident("rename") {
            let s: syn::LitStr = meta.value()?.parse()?;
            name = Some(s.value());
        } else if meta.input.peek(syn::Token![=]) {
            let _: syn::Expr = meta.value()?.parse()?;
        }
        Ok(())
    });
    name
}

/// The JSON name of a field: its serde `rename`, else its Rust name.
fn serde_name_of(field: &syn::Field) -> Option<String> {
    field.attrs.iter().rev().find_map(serde_rename).or_else(|| {
        field
            .ident
            .as_ref()
            .map(|i| i.to_string().trim_start_matches("r#").to_owned())
    })
}

/// Rewrites each field's serde attribute. Arrays and maps that typify made "empty means absent"
/// become `Option`s, so that an explicit `[]` or `{}` survives a round-trip.
fn rewrite_field(field: &mut syn::Field) {
    let mut rename: Option<String> = None;
    let mut skip_if: Option<String> = None;
    let mut has_default = false;
    let mut flatten = false;
    let mut keep = Vec::new();
    for attr in std::mem::take(&mut field.attrs) {
        if !attr.path().is_ident("serde") {
            keep.push(attr);
            continue;
        }
        let _ = attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("rename") {
                let s: syn::LitStr = meta.value()?.parse()?;
                rename = Some(s.value());
            } else if meta.path.is_ident("skip_serializing_if") {
                let s: syn::LitStr = meta.value()?.parse()?;
                skip_if = Some(s.value());
            } else if meta.path.is_ident("default") {
                has_default = true;
                if meta.input.peek(syn::Token![=]) {
                    let _: syn::Expr = meta.value()?.parse()?;
                }
            } else if meta.path.is_ident("flatten") {
                flatten = true;
            }
            Ok(())
        });
    }
    field.attrs = keep;
    let optional = match skip_if.as_deref() {
        None => false,
        Some(s) if s.ends_with("Option::is_none") => true,
        Some(_) => {
            // Vec or map: wrap in Option.
            let ty = &field.ty;
            field.ty = syn::parse_quote!(Option<#ty>);
            true
        }
    };
    let mut parts = Vec::new();
    if let Some(r) = rename {
        parts.push(quote!(rename = #r));
    }
    if flatten {
        parts.push(quote!(flatten));
    }
    if optional {
        parts.push(quote!(default));
        parts.push(quote!(skip_serializing_if = "Option::is_none"));
    } else if has_default {
        parts.push(quote!(default));
    }
    if !parts.is_empty() {
        field.attrs.push(syn::parse_quote!(#[serde(#(#parts),*)]));
    }
}

/// Adds `default` to the serde attribute of a required field (one without `default`,
/// `skip_serializing_if` or `flatten`).
fn default_when_absent(field: &mut syn::Field) {
    let mut rename: Option<String> = None;
    let mut other = false;
    for attr in field.attrs.iter().filter(|a| a.path().is_ident("serde")) {
        let _ = attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("rename") {
                let s: syn::LitStr = meta.value()?.parse()?;
                rename = Some(s.value());
            } else {
                other = true;
                if meta.input.peek(syn::Token![=]) {
                    let _: syn::Expr = meta.value()?.parse()?;
                }
            }
            Ok(())
        });
    }
    if other {
        return;
    }
    field.attrs.retain(|a| !a.path().is_ident("serde"));
    let attr: syn::Attribute = match rename {
        Some(r) => syn::parse_quote!(#[serde(rename = #r, default)]),
        None => syn::parse_quote!(#[serde(default)]),
    };
    field.attrs.push(attr);
}

/// Shortens `::std::…` paths to their prelude / imported names.
struct ShortPaths;

impl VisitMut for ShortPaths {
    fn visit_path_mut(&mut self, path: &mut syn::Path) {
        syn::visit_mut::visit_path_mut(self, path);
        let text: Vec<String> = path.segments.iter().map(|s| s.ident.to_string()).collect();
        if text == ["self", "error", "ConversionError"] {
            *path = syn::parse_quote!(super::ConversionError);
            return;
        }
        if path.leading_colon.is_none() {
            return;
        }
        let segs: Vec<String> = path.segments.iter().map(|s| s.ident.to_string()).collect();
        let short = match segs
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>()
            .as_slice()
        {
            ["std", "option", "Option"] => Some("Option"),
            ["std", "string", "String"] => Some("String"),
            ["std", "vec", "Vec"] => Some("Vec"),
            ["std", "collections", "BTreeMap"] => Some("BTreeMap"),
            ["std", "result", "Result"] => Some("Result"),
            ["serde_json", "Value"] => Some("Value"),
            ["serde_json", "Map"] => Some("Map"),
            _ => None,
        };
        if short.is_none() && segs.first().map(String::as_str) == Some("serde") {
            // `::serde::Deserialize` -> `serde::Deserialize`
            path.leading_colon = None;
            return;
        }
        if let Some(short) = short {
            if let Some(last) = path.segments.last().cloned() {
                let mut last = last;
                last.ident = syn::Ident::new(short, last.ident.span());
                path.leading_colon = None;
                path.segments = std::iter::once(last).collect();
            }
        }
    }
}

/// typify writes `///text`; rustdoc convention is `/// text`.
struct DocSpacing;

impl VisitMut for DocSpacing {
    fn visit_attribute_mut(&mut self, attr: &mut syn::Attribute) {
        if !attr.path().is_ident("doc") {
            return;
        }
        if let syn::Meta::NameValue(nv) = &attr.meta {
            if let syn::Expr::Lit(syn::ExprLit {
                lit: syn::Lit::Str(s),
                ..
            }) = &nv.value
            {
                let text = s.value();
                if !text.is_empty() && !text.starts_with(' ') {
                    let spaced = format!(" {text}");
                    *attr = syn::parse_quote!(#[doc = #spaced]);
                }
            }
        }
    }
}

fn doc_attrs(text: &str) -> Vec<syn::Attribute> {
    text.lines()
        .map(|l| {
            let l = if l.is_empty() {
                String::new()
            } else {
                format!(" {l}")
            };
            syn::parse_quote!(#[doc = #l])
        })
        .collect()
}

/// The documentation of a type: its entry of the field table, the section link and the
/// schema location (see [`crate::docs`]), and what it accepts beyond the schema.
fn type_doc(def: &Definition, docs: &Docs) -> String {
    let mut doc = docs
        .type_doc(&def.name, &def.location)
        .unwrap_or_else(|| format!("Schema: `{}`.", def.location));
    if let Some((extra, reason)) = enum_extension(&def.location) {
        let list = extra
            .iter()
            .map(|v| format!("`{v}`"))
            .collect::<Vec<_>>()
            .join(", ");
        doc.push_str(&format!(
            "\n\nCompatibility extension: also accepts {list}, which the schema does not \
             list ({reason}). Validation reports them as warnings."
        ));
    }
    doc
}

/// Replaces the doc attributes of an item with `text`.
fn set_doc(attrs: &mut Vec<syn::Attribute>, text: &str) {
    attrs.retain(|a| !a.path().is_ident("doc"));
    let mut docs = doc_attrs(text);
    docs.append(attrs);
    *attrs = docs;
}

fn field_type_is_default(ty: &syn::Type, defaults: &BTreeSet<String>) -> bool {
    let syn::Type::Path(p) = ty else { return false };
    let Some(last) = p.path.segments.last() else {
        return false;
    };
    let name = last.ident.to_string();
    match name.as_str() {
        "Option" | "Vec" | "String" | "BTreeMap" | "Map" | "Value" | "bool" | "u8" | "u16"
        | "u32" | "u64" | "i8" | "i16" | "i32" | "i64" | "f64" => true,
        other => defaults.contains(other),
    }
}

fn referenced_names(ty: &syn::Type, out: &mut BTreeSet<String>) {
    struct V<'a>(&'a mut BTreeSet<String>);
    impl<'ast> syn::visit::Visit<'ast> for V<'_> {
        fn visit_path_segment(&mut self, s: &'ast syn::PathSegment) {
            self.0.insert(s.ident.to_string());
            syn::visit::visit_path_segment(self, s);
        }
    }
    syn::visit::Visit::visit_type(&mut V(out), ty);
}

fn item_name(item: &syn::Item) -> Option<String> {
    match item {
        syn::Item::Struct(s) => Some(s.ident.to_string()),
        syn::Item::Enum(e) => Some(e.ident.to_string()),
        syn::Item::Impl(i) => match &*i.self_ty {
            syn::Type::Path(p) => p.path.segments.last().map(|s| s.ident.to_string()),
            _ => None,
        },
        _ => None,
    }
}

/// Turn typify's token stream into the modules `config`, `state` and `features`.
pub fn postprocess(
    model: &Model,
    tokens: proc_macro2::TokenStream,
    docs: &Docs,
) -> Result<TypeFiles, String> {
    let mut file: syn::File =
        syn::parse2(tokens).map_err(|e| format!("typify output does not parse: {e}"))?;
    ShortPaths.visit_file_mut(&mut file);
    DocSpacing.visit_file_mut(&mut file);
    let defs: BTreeMap<&str, &Definition> = model
        .definitions
        .iter()
        .map(|d| (d.name.as_str(), d))
        .collect();

    let mut items: Vec<syn::Item> = Vec::new();
    for item in file.items {
        match item {
            // The conversion error lives in the hand-written generated/mod.rs header.
            syn::Item::Mod(m) if m.ident == "error" => {}
            other => items.push(other),
        }
    }

    // Struct fields: order as in the schema, Option for arrays/maps, unknown-property keeper.
    for item in &mut items {
        let syn::Item::Struct(s) = item else { continue };
        let name = s.ident.to_string();
        let Some(def) = defs.get(name.as_str()) else {
            continue;
        };
        set_doc(&mut s.attrs, &type_doc(def, docs));
        let Kind::Object { properties, .. } = &def.node.kind else {
            continue;
        };
        let syn::Fields::Named(named) = &mut s.fields else {
            continue;
        };
        let mut fields: Vec<syn::Field> = named.named.iter().cloned().collect();
        let pos = |f: &syn::Field| {
            serde_name_of(f)
                .and_then(|n| properties.iter().position(|(k, _)| *k == n))
                .unwrap_or(usize::MAX)
        };
        fields.sort_by_key(pos);
        for f in &mut fields {
            rewrite_field(f);
            let doc = serde_name_of(f).and_then(|key| docs.field_doc(&name, &key));
            set_doc(&mut f.attrs, doc.as_deref().unwrap_or(""));
        }
        let extra: syn::Field = syn::Field::parse_named
            .parse2(quote! {
                /// Properties this version of the schema does not define, kept so that a
                /// config written back loses nothing.
                #[serde(flatten)]
                pub extra: Map<String, Value>
            })
            .map_err(|e| e.to_string())?;
        fields.push(extra);
        named.named = fields.into_iter().collect();
    }
    for item in &mut items {
        if let syn::Item::Enum(e) = item {
            let name = e.ident.to_string();
            if let Some(def) = defs.get(name.as_str()) {
                set_doc(&mut e.attrs, &type_doc(def, docs));
                // A later release of the spec may add values: code outside the crate
                // matches with a `_` arm, so that a bump does not break it.
                e.attrs.push(syn::parse_quote!(#[non_exhaustive]));
                for v in &mut e.variants {
                    let value = v.attrs.iter().find_map(serde_rename);
                    let doc = value.and_then(|value| docs.value_doc(&name, &value));
                    set_doc(&mut v.attrs, doc.as_deref().unwrap_or(""));
                }
            }
        }
    }

    // Default where every field has one (computed to a fixed point).
    let mut defaults: BTreeSet<String> = BTreeSet::new();
    loop {
        let before = defaults.len();
        for item in &items {
            if let syn::Item::Struct(s) = item {
                if s.fields
                    .iter()
                    .all(|f| field_type_is_default(&f.ty, &defaults))
                {
                    defaults.insert(s.ident.to_string());
                }
            }
        }
        if defaults.len() == before {
            break;
        }
    }
    // A required member whose type has a zero value parses to it when absent, as Go's
    // encoding/json (and so runc) does; validation still reports it missing.
    for item in &mut items {
        let syn::Item::Struct(s) = item else { continue };
        for f in s.fields.iter_mut() {
            if field_type_is_default(&f.ty, &defaults) {
                default_when_absent(f);
            }
        }
    }
    for item in &mut items {
        let (attrs, wants_default) = match item {
            syn::Item::Struct(s) => {
                let d = defaults.contains(&s.ident.to_string());
                (&mut s.attrs, d)
            }
            syn::Item::Enum(e) => (&mut e.attrs, false),
            _ => continue,
        };
        for attr in attrs.iter_mut() {
            if !attr.path().is_ident("derive") {
                continue;
            }
            let list: syn::punctuated::Punctuated<syn::Path, syn::Token![,]> = attr
                .parse_args_with(syn::punctuated::Punctuated::parse_terminated)
                .map_err(|e| e.to_string())?;
            let mut list: Vec<syn::Path> = list.into_iter().collect();
            for p in &mut list {
                // `::serde::Deserialize` -> `serde::Deserialize`
                p.leading_colon = None;
            }
            if wants_default && !list.iter().any(|p| p.is_ident("Default")) {
                let at = list
                    .iter()
                    .position(|p| p.is_ident("PartialEq"))
                    .unwrap_or(list.len());
                list.insert(at, syn::parse_quote!(Default));
            }
            *attr = syn::parse_quote!(#[derive(#(#list),*)]);
        }
    }
    // typify's hand-written `impl Default` blocks are now redundant with the derive.
    items.retain(|item| match item {
        syn::Item::Impl(i) => {
            let is_default = i
                .trait_
                .as_ref()
                .and_then(|(_, p, _)| p.segments.last())
                .is_some_and(|s| s.ident == "Default");
            !(is_default && item_name(item).is_some_and(|n| defaults.contains(&n)))
        }
        _ => true,
    });

    // Split: a type goes to the first root document (config, state, features) that reaches it.
    let mut deps: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for item in &items {
        let mut refs = BTreeSet::new();
        match item {
            syn::Item::Struct(s) => s
                .fields
                .iter()
                .for_each(|f| referenced_names(&f.ty, &mut refs)),
            syn::Item::Enum(e) => {
                for v in &e.variants {
                    v.fields
                        .iter()
                        .for_each(|f| referenced_names(&f.ty, &mut refs));
                }
            }
            _ => continue,
        }
        if let Some(n) = item_name(item) {
            deps.insert(n, refs);
        }
    }
    let mut owner: BTreeMap<String, &str> = BTreeMap::new();
    for (module, root) in [
        ("config", "Spec"),
        ("state", "State"),
        ("features", "Features"),
    ] {
        let mut stack = vec![root.to_owned()];
        while let Some(n) = stack.pop() {
            if owner.contains_key(&n) || !deps.contains_key(&n) {
                continue;
            }
            owner.insert(n.clone(), module);
            stack.extend(deps[&n].iter().cloned());
        }
    }
    let mut modules: Vec<(String, Vec<syn::Item>)> = ["config", "state", "features"]
        .iter()
        .map(|m| (m.to_string(), Vec::new()))
        .collect();
    for item in items {
        let module = item_name(&item)
            .and_then(|n| owner.get(&n).copied())
            .ok_or_else(|| {
                format!(
                    "generated item {:?} belongs to no document",
                    item_name(&item)
                )
            })?;
        if let Some((_, list)) = modules.iter_mut().find(|(m, _)| m == module) {
            list.push(item);
        }
    }
    Ok(TypeFiles { modules, defaults })
}

use syn::parse::Parser;

#[cfg(test)]
mod tests {
    use super::int_type;

    #[test]
    fn integer_widths() {
        assert_eq!(int_type(Some(0), Some(u32::MAX.into())).0, "u32");
        assert_eq!(
            int_type(Some(i32::MIN.into()), Some(i32::MAX.into())).0,
            "i32"
        );
        assert_eq!(int_type(Some(0), Some(u64::MAX.into())).0, "u64");
        // FileMode 0-511: u32, so that values with file-type bits still parse.
        assert_eq!(int_type(Some(0), Some(511)).0, "u32");
        // Hook timeout (minimum 1 only) and unbounded integers: i64, never NonZero.
        assert_eq!(int_type(Some(1), None).0, "i64");
        assert_eq!(int_type(None, None).0, "i64");
    }
}
