//! Conversions between the generated types and the `oci-spec` crate's runtime types
//! (cargo feature `oci-spec-interop`).
//!
//! Both sides serialise to the spec's JSON, so a conversion goes through `serde_json::Value`.
//! Going to `oci-spec` drops what that crate does not model (FreeBSD, VM `hwConfig`, Windows
//! CPU affinity, unknown properties); coming from it keeps everything it has.

use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::{Features, Spec, State};

/// A conversion between the two crates' types failed.
#[derive(Debug, thiserror::Error)]
#[error("converting {what} between writ-spec and oci-spec: {source}")]
pub struct InteropError {
    /// Which document was converted.
    pub what: &'static str,
    /// What serde said.
    #[source]
    pub source: serde_json::Error,
}

fn convert<A: Serialize, B: DeserializeOwned>(
    what: &'static str,
    a: &A,
) -> Result<B, InteropError> {
    serde_json::to_value(a)
        .and_then(serde_json::from_value)
        .map_err(|source| InteropError { what, source })
}

macro_rules! both_ways {
    ($ours:ty, $theirs:ty, $what:literal) => {
        impl TryFrom<&$ours> for $theirs {
            type Error = InteropError;
            fn try_from(v: &$ours) -> Result<Self, InteropError> {
                convert($what, v)
            }
        }

        impl TryFrom<&$theirs> for $ours {
            type Error = InteropError;
            fn try_from(v: &$theirs) -> Result<Self, InteropError> {
                convert($what, v)
            }
        }
    };
}

both_ways!(Spec, oci_spec::runtime::Spec, "config");
both_ways!(State, oci_spec::runtime::State, "state");
both_ways!(Features, oci_spec::runtime::Features, "features");
