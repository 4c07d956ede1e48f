//! Helpers shared by the engine's integration tests.

use voltrs_storage::Value;
use voltrs_storage::text::render;

/// A result row as text: each value in its shared text form (NULL as `NULL`), joined by `|`.
pub fn row_text(row: &[Value]) -> String {
    row.iter()
        .map(|v| render(v).unwrap_or_else(|| "NULL".into()))
        .collect::<Vec<_>>()
        .join("|")
}
