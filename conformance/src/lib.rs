//! Harness for lifecycle scenario tests against any OCI runtime binary.
