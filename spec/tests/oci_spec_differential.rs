//! Differential test: the same configs parsed by writ-spec and by the `oci-spec` crate agree
//! field by field, and converting between the two keeps what oci-spec models.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test: a failing unwrap is a failing test
#![cfg(feature = "oci-spec-interop")]

use std::path::{Path, PathBuf};

use serde::Serialize;
use serde_json::Value;

fn fixtures() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/valid");
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    v.sort();
    v
}

fn j<T: Serialize>(t: T) -> Value {
    serde_json::to_value(t).unwrap()
}

/// A JSON array of strings as a sorted list (oci-spec keeps capabilities in a HashSet).
fn sorted(v: Value) -> Value {
    match v {
        Value::Array(mut a) => {
            a.sort_by_key(|x| x.to_string());
            Value::Array(a)
        }
        other => other,
    }
}

#[test]
fn writ_spec_and_oci_spec_agree_on_every_fixture() {
    assert!(fixtures().len() >= 9);
    for path in fixtures() {
        let file = path.file_name().unwrap().to_string_lossy().into_owned();
        let bytes = std::fs::read(&path).unwrap();
        let ours = writ_spec::parse_config(&bytes).unwrap().value;
        let theirs: oci_spec::runtime::Spec = serde_json::from_slice(&bytes).unwrap();

        assert_eq!(theirs.version(), &ours.oci_version, "{file}");
        assert_eq!(j(theirs.hostname()), j(&ours.hostname), "{file}");
        assert_eq!(j(theirs.annotations()), j(&ours.annotations), "{file}");

        let (tr, or) = (theirs.root().as_ref().unwrap(), ours.root.as_ref().unwrap());
        assert_eq!(j(tr.path()), j(&or.path), "{file}");
        assert_eq!(j(tr.readonly()), j(or.readonly), "{file}");

        let (tp, op) = (
            theirs.process().as_ref().unwrap(),
            ours.process.as_ref().unwrap(),
        );
        assert_eq!(j(tp.cwd()), j(&op.cwd), "{file}");
        assert_eq!(j(tp.args()), j(&op.args), "{file}");
        assert_eq!(j(tp.env()), j(&op.env), "{file}");
        assert_eq!(j(tp.terminal()), j(op.terminal), "{file}");
        assert_eq!(j(tp.no_new_privileges()), j(op.no_new_privileges), "{file}");
        let ou = op.user.as_ref().unwrap();
        assert_eq!(Some(tp.user().uid()), ou.uid, "{file}");
        assert_eq!(Some(tp.user().gid()), ou.gid, "{file}");
        assert_eq!(
            j(tp.user().additional_gids()),
            j(&ou.additional_gids),
            "{file}"
        );
        if let (Some(tc), Some(oc)) = (tp.capabilities(), &op.capabilities) {
            assert_eq!(sorted(j(tc.bounding())), sorted(j(&oc.bounding)), "{file}");
            assert_eq!(
                sorted(j(tc.effective())),
                sorted(j(&oc.effective)),
                "{file}"
            );
            assert_eq!(
                sorted(j(tc.permitted())),
                sorted(j(&oc.permitted)),
                "{file}"
            );
            assert_eq!(sorted(j(tc.ambient())), sorted(j(&oc.ambient)), "{file}");
        } else {
            assert!(
                tp.capabilities().is_none() && op.capabilities.is_none(),
                "{file}"
            );
        }
        let trl = tp.rlimits().clone().unwrap_or_default();
        let orl = op.rlimits.clone().unwrap_or_default();
        assert_eq!(trl.len(), orl.len(), "{file}");
        for (t, o) in trl.iter().zip(&orl) {
            assert_eq!(j(t.typ()), j(&o.type_), "{file}");
            assert_eq!((t.hard(), t.soft()), (o.hard, o.soft), "{file}");
        }

        let tm = theirs.mounts().clone().unwrap_or_default();
        let om = ours.mounts.clone().unwrap_or_default();
        assert_eq!(tm.len(), om.len(), "{file}");
        for (t, o) in tm.iter().zip(&om) {
            assert_eq!(j(t.destination()), j(&o.destination), "{file}");
            assert_eq!(j(t.typ()), j(&o.type_), "{file}");
            assert_eq!(j(t.source()), j(&o.source), "{file}");
            assert_eq!(j(t.options()), j(&o.options), "{file}");
        }

        let (tl, ol) = (
            theirs.linux().as_ref().unwrap(),
            ours.linux.as_ref().unwrap(),
        );
        let tns = tl.namespaces().clone().unwrap_or_default();
        let ons = ol.namespaces.clone().unwrap_or_default();
        assert_eq!(tns.len(), ons.len(), "{file}");
        for (t, o) in tns.iter().zip(&ons) {
            assert_eq!(j(t.typ()), Value::String(o.type_.to_string()), "{file}");
            assert_eq!(j(t.path()), j(&o.path), "{file}");
        }
        let tdev = tl.devices().clone().unwrap_or_default();
        let odev = ol.devices.clone().unwrap_or_default();
        assert_eq!(tdev.len(), odev.len(), "{file}");
        for (t, o) in tdev.iter().zip(&odev) {
            assert_eq!(j(t.path()), j(&o.path), "{file}");
            assert_eq!(j(t.typ()), j(&o.type_), "{file}");
            assert_eq!(
                (t.major(), t.minor()),
                (o.major.unwrap(), o.minor.unwrap()),
                "{file}"
            );
            assert_eq!(t.file_mode(), o.file_mode, "{file}");
            assert_eq!((t.uid(), t.gid()), (o.uid, o.gid), "{file}");
        }
        assert_eq!(j(tl.uid_mappings()), j(&ol.uid_mappings), "{file}");
        assert_eq!(j(tl.gid_mappings()), j(&ol.gid_mappings), "{file}");
        assert_eq!(j(tl.masked_paths()), j(&ol.masked_paths), "{file}");
        assert_eq!(j(tl.readonly_paths()), j(&ol.readonly_paths), "{file}");
        assert_eq!(j(tl.sysctl()), j(&ol.sysctl), "{file}");
        assert_eq!(j(tl.cgroups_path()), j(&ol.cgroups_path), "{file}");
        match (tl.resources(), &ol.resources) {
            (Some(t), Some(o)) => {
                assert_eq!(j(t.devices()), j(&o.devices), "{file}");
                assert_eq!(j(t.pids()), j(&o.pids), "{file}");
                assert_eq!(j(t.memory()), j(&o.memory), "{file}");
                assert_eq!(j(t.cpu()), j(&o.cpu), "{file}");
            }
            (None, None) => {}
            (t, o) => panic!("{file}: resources differ: {t:?} vs {o:?}"),
        }
        match (tl.seccomp(), &ol.seccomp) {
            (Some(t), Some(o)) => {
                assert_eq!(j(t.default_action()), j(o.default_action), "{file}");
                assert_eq!(j(t.default_errno_ret()), j(o.default_errno_ret), "{file}");
                assert_eq!(j(t.architectures()), j(&o.architectures), "{file}");
                assert_eq!(j(t.syscalls()), j(&o.syscalls), "{file}");
            }
            (None, None) => {}
            (t, o) => panic!("{file}: seccomp differs: {t:?} vs {o:?}"),
        }
    }
}

/// The first JSON pointer where two documents differ.
fn first_difference(a: &Value, b: &Value, at: &str) -> Option<String> {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            for k in x.keys().chain(y.keys()) {
                let p = format!("{at}/{k}");
                match (x.get(k), y.get(k)) {
                    (Some(xa), Some(yb)) => {
                        if let Some(d) = first_difference(xa, yb, &p) {
                            return Some(d);
                        }
                    }
                    _ => return Some(p),
                }
            }
            None
        }
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() => x
            .iter()
            .zip(y)
            .enumerate()
            .find_map(|(i, (xa, yb))| first_difference(xa, yb, &format!("{at}/{i}"))),
        _ => (a != b).then(|| at.to_owned()),
    }
}

/// oci-spec holds capability sets in a HashSet: compare them as sets.
fn normalise(mut v: Value) -> Value {
    if let Some(caps) = v
        .pointer_mut("/process/capabilities")
        .and_then(Value::as_object_mut)
    {
        for set in caps.values_mut() {
            *set = sorted(set.take());
        }
    }
    v
}

#[test]
fn conversions_keep_what_oci_spec_models() {
    for path in fixtures() {
        let file = path.file_name().unwrap().to_string_lossy().into_owned();
        let ours = writ_spec::parse_config(&std::fs::read(&path).unwrap())
            .unwrap()
            .value;
        let theirs = oci_spec::runtime::Spec::try_from(&ours).unwrap();
        let back = writ_spec::Spec::try_from(&theirs).unwrap();
        let (a, b) = (normalise(j(&ours)), normalise(j(&back)));
        assert!(
            a == b,
            "{file}: writ -> oci-spec -> writ changed {:?}",
            first_difference(&a, &b, "")
        );
    }
}

#[test]
fn state_converts_both_ways() {
    let src = br#"{"ociVersion":"1.3.0","id":"c1","status":"running","pid":42,"bundle":"/b","annotations":{"a":"b"}}"#;
    let ours = writ_spec::parse_state(src).unwrap().value;
    let theirs = oci_spec::runtime::State::try_from(&ours).unwrap();
    assert_eq!(theirs.id(), "c1");
    assert_eq!(theirs.pid(), &Some(42));
    assert_eq!(writ_spec::State::try_from(&theirs).unwrap(), ours);
}
