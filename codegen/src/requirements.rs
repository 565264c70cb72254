//! Requirements list: loading, the generated table, and spec-update diffs.
