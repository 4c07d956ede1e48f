//! `voltrs check DIR`: what a data folder holds and any damage, without changing it.

use std::path::Path;

use super::io::Storage;
use super::log::list_segments;
use super::record::{Command, Record};
use super::scan::scan_log;

/// What a check found: lines describing the folder, and the damage (empty when sound).
#[derive(Debug, Clone, Default)]
pub struct CheckReport {
    pub lines: Vec<String>,
    pub problems: Vec<String>,
    /// Warnings that recovery handles by itself (a torn last record).
    pub warnings: Vec<String>,
}

/// Inspects the data folder `dir`. Changes no data (taking the lock for a moment writes
/// this process's pid into `voltrs.lock`); a running server may hold the folder.
pub fn check(storage: &dyn Storage, dir: &Path) -> CheckReport {
    let mut r = CheckReport::default();
    if !storage.exists(dir) {
        r.problems.push(format!("{} does not exist", dir.display()));
        return r;
    }
    r.lines.push(format!("data folder {}", dir.display()));
    match storage.read(&dir.join("partitions")) {
        Ok(text) => match String::from_utf8_lossy(&text).trim().parse::<usize>() {
            Ok(n) => r.lines.push(format!("partitions: {n}")),
            Err(_) => r.problems.push("the partitions file does not hold a number".into()),
        },
        Err(_) => r
            .lines
            .push("partitions: not fixed yet (no server has started here)".into()),
    }
    match storage.lock(&dir.join("voltrs.lock")) {
        Ok(_) => r.lines.push("in use: no".into()),
        Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
            r.lines
                .push("in use: yes, by a running server (its last records may still be arriving)".into());
        }
        Err(e) => r.problems.push(format!("cannot check the folder's lock: {e}")),
    }
    check_log(storage, &dir.join("log"), &mut r);
    r
}

fn check_log(storage: &dyn Storage, dir: &Path, r: &mut CheckReport) {
    if !storage.exists(dir) {
        r.lines.push("command log: none".into());
        return;
    }
    let segments = match list_segments(storage, dir) {
        Ok(s) => s,
        Err(e) => {
            r.problems.push(format!("cannot list {}: {e}", dir.display()));
            return;
        }
    };
    let mut procedures = 0u64;
    let mut sql = 0u64;
    let mut loads = 0u64;
    let mut last: Option<(u64, i64)> = None;
    let mut count = |rec: Record, _: &Path, _: usize| -> Result<(), String> {
        match rec.command {
            Command::Procedure { .. } => procedures += 1,
            Command::AdHoc { .. } => sql += 1,
            Command::Load { .. } => loads += 1,
        }
        last = Some((rec.lsn, rec.timestamp));
        Ok(())
    };
    // LSN 0: every record is visited; `repair` off: nothing is changed.
    match scan_log(storage, dir, 0, false, &mut count) {
        Ok(s) => {
            r.lines.push(format!(
                "command log: {} segment{}, {} record{} (LSN {} to {})",
                segments.len(),
                if segments.len() == 1 { "" } else { "s" },
                s.records,
                if s.records == 1 { "" } else { "s" },
                s.first_lsn.unwrap_or(0),
                s.next_lsn.saturating_sub(1)
            ));
            r.lines.push(format!(
                "  {procedures} procedure calls, {sql} SQL transactions, {loads} bulk loads"
            ));
            if let Some((lsn, ts)) = last {
                r.lines.push(format!(
                    "  last record: LSN {lsn} at {}",
                    voltrs_storage::timestamp::format_timestamp(ts)
                ));
            }
            if let Some(t) = s.torn {
                r.warnings.push(format!("{t} (recovery cuts it off)"));
            }
        }
        Err(e) => r.problems.push(e.to_string()),
    }
}
