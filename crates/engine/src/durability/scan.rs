//! Reading the command log back: every record after a snapshot's LSN, in order, with the
//! checks recovery and `voltrs check` rely on.
//!
//! - Records must carry consecutive LSNs across segments; a gap is damage.
//! - A damaged frame (cut short, wrong checksum, not decodable) at the end of the last
//!   segment, with nothing intact after it, is a torn write that no client heard about: it
//!   is cut off with a warning. Damage anywhere else, or followed by an intact record, is
//!   an error naming the file and offset, never a silent skip.

use std::path::{Path, PathBuf};

use super::io::Storage;
use super::log::{SegmentName, list_segments};
use super::record::{FRAME_LEN, Frame, Record, SEGMENT_HEADER_LEN, read_frame, read_segment_header};

/// Damage (or a failed replay) in the log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogError {
    pub file: PathBuf,
    pub offset: usize,
    pub message: String,
}

impl std::fmt::Display for LogError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "command log {} at offset {}: {}",
            self.file.display(),
            self.offset,
            self.message
        )
    }
}

/// What a scan found.
#[derive(Debug, Clone, Default)]
pub struct ScanSummary {
    /// The LSN the next record gets.
    pub next_lsn: u64,
    /// Records read after the start LSN (those passed to the visitor).
    pub replayed: u64,
    /// Records in the log, all of them.
    pub records: u64,
    /// The first LSN still in the log, if any record is.
    pub first_lsn: Option<u64>,
    pub segments: Vec<SegmentName>,
    /// A torn tail that was (or, without `repair`, would be) cut off.
    pub torn: Option<String>,
}

/// Reads every record of the log in `dir`; passes those with an LSN above `after` to
/// `visit` (with the file and offset). With `repair`, a torn tail is cut off the file.
pub fn scan_log(
    storage: &dyn Storage,
    dir: &Path,
    after: u64,
    repair: bool,
    visit: &mut dyn FnMut(Record, &Path, usize) -> Result<(), String>,
) -> Result<ScanSummary, LogError> {
    let mut summary = ScanSummary {
        next_lsn: after + 1,
        ..ScanSummary::default()
    };
    if !storage.exists(dir) {
        return Ok(summary);
    }
    let segments = list_segments(storage, dir).map_err(|e| LogError {
        file: dir.to_path_buf(),
        offset: 0,
        message: format!("cannot list the log folder: {e}"),
    })?;
    let mut expected: Option<u64> = None;
    let count = segments.len();
    for (i, seg) in segments.iter().enumerate() {
        let last = i + 1 == count;
        let err = |offset: usize, message: String| LogError {
            file: seg.path.clone(),
            offset,
            message,
        };
        let bytes = storage
            .read(&seg.path)
            .map_err(|e| err(0, format!("cannot read: {e}")))?;
        let first = match read_segment_header(&bytes) {
            Ok(first) => first,
            // A segment whose header never reached the disk (the crash came while it was
            // being created) holds nothing.
            Err(_) if last && bytes.iter().take(SEGMENT_HEADER_LEN).all(|&b| b == 0) => {
                if repair {
                    let _ = storage.remove_file(&seg.path);
                }
                summary.torn = Some(format!(
                    "{}: an empty segment whose header was never written",
                    seg.path.display()
                ));
                continue;
            }
            Err(e) => return Err(err(0, e)),
        };
        if first != seg.first_lsn {
            return Err(err(
                0,
                format!(
                    "the header says the first record is {first} but the file name says {}",
                    seg.first_lsn
                ),
            ));
        }
        match expected {
            Some(e) if first != e => {
                return Err(err(
                    0,
                    format!(
                        "records {e} to {} are missing (the segment starts at record {first})",
                        first.saturating_sub(1)
                    ),
                ));
            }
            None if first > after + 1 => {
                return Err(err(
                    0,
                    format!(
                        "the log starts at record {first} but recovery needs every record after {after}: records {} to {} are missing",
                        after + 1,
                        first - 1
                    ),
                ));
            }
            _ => {}
        }
        let mut next = first;
        let mut offset = SEGMENT_HEADER_LEN;
        loop {
            match read_frame(&bytes, offset) {
                Frame::Record(record, end) => {
                    if record.lsn != next {
                        return Err(err(
                            offset,
                            format!("record {} found where record {next} was expected", record.lsn),
                        ));
                    }
                    summary.first_lsn.get_or_insert(record.lsn);
                    summary.records += 1;
                    next += 1;
                    if record.lsn > after {
                        summary.replayed += 1;
                        visit(*record, &seg.path, offset).map_err(|m| err(offset, m))?;
                    }
                    offset = end;
                }
                Frame::End => {
                    if let Some(at) = intact_frame_after(&bytes, offset) {
                        return Err(err(
                            offset,
                            format!("zeros where a record should be, with an intact record after them at offset {at}"),
                        ));
                    }
                    // The preallocated rest of the segment: a restart writes a new segment,
                    // so this one is cut to its records.
                    if repair && bytes.len() > offset {
                        let cut = storage.open(&seg.path).and_then(|mut f| {
                            f.truncate(offset as u64)?;
                            f.sync()
                        });
                        cut.map_err(|e| err(offset, format!("cannot cut the segment to its records: {e}")))?;
                    }
                    break;
                }
                Frame::Damaged(why) => {
                    if !last {
                        return Err(err(offset, why));
                    }
                    if let Some(at) = intact_frame_after(&bytes, offset) {
                        return Err(err(
                            offset,
                            format!("{why}, with an intact record after it at offset {at}"),
                        ));
                    }
                    summary.torn = Some(format!(
                        "{}: a torn record at offset {offset} ({why}); no client was told it committed",
                        seg.path.display()
                    ));
                    if repair {
                        let cut = storage.open(&seg.path).and_then(|mut f| {
                            f.truncate(offset as u64)?;
                            f.sync()
                        });
                        cut.map_err(|e| err(offset, format!("cannot cut off the torn record: {e}")))?;
                    }
                    break;
                }
            }
        }
        expected = Some(next);
        summary.next_lsn = summary.next_lsn.max(next);
        if repair && next == first {
            // No records: nothing to keep (its first LSN is the next segment's).
            storage
                .remove_file(&seg.path)
                .map_err(|e| err(0, format!("cannot remove the empty segment: {e}")))?;
            continue;
        }
        summary.segments.push(seg.clone());
    }
    Ok(summary)
}

/// The offset of an intact record after `from`, if any (then the damage at `from` is not
/// a torn tail).
fn intact_frame_after(bytes: &[u8], from: usize) -> Option<usize> {
    let mut at = from + 1;
    while at + FRAME_LEN <= bytes.len() {
        if bytes[at] == 0 && bytes[at..at + FRAME_LEN].iter().all(|&b| b == 0) {
            // Skip a run of zeros at once (the preallocated rest of a segment).
            match bytes[at..].iter().position(|&b| b != 0) {
                Some(n) => at += n.saturating_sub(FRAME_LEN - 1).max(1),
                None => return None,
            }
            continue;
        }
        if let Frame::Record(..) = read_frame(bytes, at) {
            return Some(at);
        }
        at += 1;
    }
    None
}
