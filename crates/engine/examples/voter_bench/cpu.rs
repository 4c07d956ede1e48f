//! CPU time of this process and of each of its threads, from `/proc` (Linux only).
//!
//! `/proc/self/task/TID/stat` gives a thread's `utime` and `stime` (fields 14 and 15) in
//! clock ticks; `/proc/self/task/TID/comm` its name (truncated by the kernel to 15 bytes,
//! so `voltrs-mp-coordinator` reads `voltrs-mp-coord`).

use std::collections::HashMap;

/// Clock ticks per second of `/proc` times (`USER_HZ`, `getconf CLK_TCK`): 100 on every
/// Linux this benchmark targets.
pub const TICKS_PER_SECOND: f64 = 100.0;

/// One thread's name and CPU time (user + system) so far, in ticks.
#[derive(Debug, Clone)]
pub struct ThreadCpu {
    pub name: String,
    pub ticks: u64,
}

/// utime + stime of a `stat` line: the fields after the `)` that closes the command name
/// (which may itself hold spaces or parentheses).
fn stat_ticks(stat: &str) -> Option<u64> {
    let rest = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // `rest` starts at field 3 (state), so field 14 (utime) is index 11.
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some(utime + stime)
}

/// Every live thread of this process by thread id.
pub fn threads() -> HashMap<u32, ThreadCpu> {
    let mut out = HashMap::new();
    let Ok(dir) = std::fs::read_dir("/proc/self/task") else {
        return out;
    };
    for entry in dir.flatten() {
        let Some(tid) = entry.file_name().to_str().and_then(|s| s.parse::<u32>().ok()) else {
            continue;
        };
        let path = entry.path();
        let (Ok(stat), Ok(comm)) = (
            std::fs::read_to_string(path.join("stat")),
            std::fs::read_to_string(path.join("comm")),
        ) else {
            continue;
        };
        if let Some(ticks) = stat_ticks(&stat) {
            out.insert(
                tid,
                ThreadCpu {
                    name: comm.trim().to_string(),
                    ticks,
                },
            );
        }
    }
    out
}

/// The whole process's utime + stime (every thread, live or exited), in ticks.
pub fn process_ticks() -> u64 {
    std::fs::read_to_string("/proc/self/stat")
        .ok()
        .and_then(|s| stat_ticks(&s))
        .unwrap_or(0)
}

/// CPU seconds each thread used between two [`threads`] snapshots, by thread name prefix
/// group: a thread must appear in both snapshots to count.
pub fn seconds_between(before: &HashMap<u32, ThreadCpu>, after: &HashMap<u32, ThreadCpu>) -> Vec<(String, f64)> {
    let mut out: Vec<(String, f64)> = after
        .iter()
        .filter_map(|(tid, a)| {
            let b = before.get(tid)?;
            Some((
                a.name.clone(),
                a.ticks.saturating_sub(b.ticks) as f64 / TICKS_PER_SECOND,
            ))
        })
        .collect();
    out.sort_by(|x, y| x.0.cmp(&y.0));
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn parses_a_stat_line_with_spaces_in_the_name() {
        let line = "42 (a (b) c) S 1 2 3 4 5 6 7 8 9 10 123 45 0 0 20 0 1 0";
        assert_eq!(super::stat_ticks(line), Some(168));
    }
}
