//! The command log's writer: sites append encoded records to a shared buffer (no I/O on a
//! site thread); one writer thread moves the buffer to the current segment and, in
//! synchronous mode, syncs it and reports the LSN that is now durable. Every record that
//! arrived while one sync ran goes out with the next (group commit).
//!
//! Segments are preallocated to their full size, so a full disk shows when the next one
//! is prepared (then writes are refused before they run) rather than in the middle of a
//! write. A write or sync error is final: the log stops, every result still waiting fails,
//! and the owner must not serve again from this memory (a retried fsync can lie).

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use super::io::{Storage, WriteFile};
use super::record::{CommandRef, FRAME_LEN, RecordHead, SEGMENT_HEADER_LEN, encode_record, segment_header};

/// When a client hears that its write committed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogMode {
    /// After its record is on disk (fdatasync); one sync covers every record waiting.
    Sync,
    /// At once; records are synced every `flush_interval` (a crash loses at most that).
    Async,
    /// No command log (nothing survives a restart).
    Off,
}

impl LogMode {
    pub fn parse(s: &str) -> Option<LogMode> {
        match s.to_ascii_lowercase().as_str() {
            "sync" | "synchronous" => Some(LogMode::Sync),
            "async" | "asynchronous" => Some(LogMode::Async),
            "off" | "none" => Some(LogMode::Off),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            LogMode::Sync => "sync",
            LogMode::Async => "async",
            LogMode::Off => "off",
        }
    }
}

/// How the command log writes.
#[derive(Debug, Clone)]
pub struct LogSettings {
    pub mode: LogMode,
    /// Size a segment is preallocated to; a new segment starts when a batch would not fit.
    pub segment_bytes: u64,
    /// Synchronous mode: how long the writer waits, after the first record of a batch
    /// arrives, for more before it writes and syncs (0: it starts at once; records that
    /// arrive during a sync still share the next one).
    pub group_commit_wait: Duration,
    /// Asynchronous mode: how often written records are synced.
    pub flush_interval: Duration,
}

impl Default for LogSettings {
    fn default() -> LogSettings {
        LogSettings {
            mode: LogMode::Sync,
            segment_bytes: 64 << 20,
            group_commit_wait: Duration::ZERO,
            flush_interval: Duration::from_millis(100),
        }
    }
}

/// Records waiting for the writer.
struct Pending {
    buf: Vec<u8>,
    next_lsn: u64,
    stop: bool,
    /// Remove segments whose records all have LSNs at most this (a snapshot covers them).
    release_upto: Option<u64>,
    /// The writer is waiting on `wake` for something to do.
    writer_waiting: bool,
}

/// Called with the highest durable LSN, or with the error that stopped the log.
pub type DurableFn = Box<dyn Fn(Result<u64, String>) + Send>;

/// The shared side of the command log: appends from sites, state for the rest.
pub struct CommandLog {
    pending: Mutex<Pending>,
    wake: Condvar,
    /// The last LSN appended: every result released must wait for it (its watermark).
    appended: AtomicU64,
    durable: AtomicU64,
    /// Set when the next segment could not be preallocated: writes are refused.
    disk_full: Mutex<Option<String>>,
    failed: Mutex<Option<String>>,
    stopped: AtomicBool,
    pub settings: LogSettings,
    /// Records and syncs written, for statistics.
    pub stats: LogStats,
}

#[derive(Debug, Default)]
pub struct LogStats {
    pub records: AtomicU64,
    pub syncs: AtomicU64,
    pub bytes: AtomicU64,
}

impl CommandLog {
    /// The last LSN appended.
    pub fn appended(&self) -> u64 {
        self.appended.load(Ordering::Acquire)
    }

    /// The highest LSN known durable.
    pub fn durable(&self) -> u64 {
        self.durable.load(Ordering::Acquire)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Pending> {
        self.pending.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Appends a committed transaction's record; returns its LSN.
    pub fn append(
        &self,
        unique_id: i64,
        timestamp: i64,
        partition: i32,
        database: &str,
        command: &CommandRef<'_>,
    ) -> u64 {
        let mut p = self.lock();
        let lsn = p.next_lsn;
        p.next_lsn += 1;
        let head = RecordHead {
            lsn,
            unique_id,
            timestamp,
            partition,
            database,
        };
        encode_record(&mut p.buf, &head, command);
        self.appended.store(lsn, Ordering::Release);
        // Only a waiting writer needs waking (a notify is a system call); a busy one takes
        // the buffer when it is done.
        let waiting = std::mem::take(&mut p.writer_waiting);
        drop(p);
        if waiting {
            self.wake.notify_one();
        }
        lsn
    }

    /// Why writes are refused before they run, if they are: the disk is full or the log
    /// has failed.
    pub fn refusal(&self) -> Option<String> {
        if let Some(f) = self.failed.lock().unwrap_or_else(|e| e.into_inner()).clone() {
            return Some(format!("the command log failed and takes no more writes: {f}"));
        }
        self.disk_full
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .as_ref()
            .map(|e| format!("the command log's disk is full ({e}): writes are refused until space is freed"))
    }

    /// The error that stopped the log, if one did.
    pub fn failure(&self) -> Option<String> {
        self.failed.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Asks the writer to remove the segments a snapshot up to `lsn` covers.
    pub fn release_upto(&self, lsn: u64) {
        let mut p = self.lock();
        p.release_upto = Some(p.release_upto.map_or(lsn, |l| l.max(lsn)));
        drop(p);
        self.wake.notify_one();
    }

    /// Stops the writer after it has written (and synced) everything appended.
    pub fn stop(&self) {
        self.lock().stop = true;
        self.wake.notify_one();
    }

    pub fn is_stopped(&self) -> bool {
        self.stopped.load(Ordering::Acquire)
    }
}

/// A segment file: its first LSN and path.
#[derive(Debug, Clone)]
pub struct SegmentName {
    pub first_lsn: u64,
    pub path: PathBuf,
}

/// Segment file names: the first LSN, zero-padded so names sort in LSN order.
pub fn segment_path(dir: &Path, first_lsn: u64) -> PathBuf {
    dir.join(format!("{first_lsn:020}.vlog"))
}

/// The segments in `dir`, in LSN order.
pub fn list_segments(storage: &dyn Storage, dir: &Path) -> std::io::Result<Vec<SegmentName>> {
    let mut out = Vec::new();
    for name in storage.list(dir)? {
        if let Some(stem) = name.strip_suffix(".vlog")
            && let Ok(first_lsn) = stem.parse::<u64>()
        {
            out.push(SegmentName {
                first_lsn,
                path: dir.join(&name),
            });
        }
    }
    out.sort_by_key(|s| s.first_lsn);
    Ok(out)
}

/// The writer thread's state.
struct Writer {
    storage: Arc<dyn Storage>,
    dir: PathBuf,
    log: Arc<CommandLog>,
    on_durable: DurableFn,
    current: Segment,
    /// The next segment, preallocated ahead (its first LSN is set when it is started).
    spare: Option<(PathBuf, Box<dyn WriteFile>)>,
    /// Older segments still on disk, oldest first: (first LSN, path).
    closed: Vec<(u64, PathBuf)>,
    unsynced: bool,
    last_sync: Instant,
}

struct Segment {
    first_lsn: u64,
    path: PathBuf,
    file: Box<dyn WriteFile>,
    offset: u64,
}

/// Starts the log: new records begin at `next_lsn` in a new segment of `dir`; `existing`
/// are the segments already there (kept until a snapshot covers them).
pub fn start(
    storage: Arc<dyn Storage>,
    dir: &Path,
    settings: LogSettings,
    next_lsn: u64,
    existing: Vec<SegmentName>,
    on_durable: DurableFn,
) -> std::io::Result<(Arc<CommandLog>, std::thread::JoinHandle<()>)> {
    storage.create_dir_all(dir)?;
    let log = Arc::new(CommandLog {
        pending: Mutex::new(Pending {
            buf: Vec::with_capacity(1 << 20),
            next_lsn,
            stop: false,
            release_upto: None,
            writer_waiting: false,
        }),
        wake: Condvar::new(),
        appended: AtomicU64::new(next_lsn - 1),
        durable: AtomicU64::new(next_lsn - 1),
        disk_full: Mutex::new(None),
        failed: Mutex::new(None),
        stopped: AtomicBool::new(false),
        settings,
        stats: LogStats::default(),
    });
    let current = new_segment(&*storage, dir, next_lsn, log.settings.segment_bytes, None)?;
    let mut writer = Writer {
        storage,
        dir: dir.to_path_buf(),
        log: log.clone(),
        on_durable,
        current,
        spare: None,
        closed: existing.into_iter().map(|s| (s.first_lsn, s.path)).collect(),
        unsynced: false,
        last_sync: Instant::now(),
    };
    let handle = std::thread::Builder::new()
        .name("voltrs-log".into())
        .spawn(move || writer.run())?;
    Ok((log, handle))
}

/// Creates (or takes the spare and renames) a segment starting at `first_lsn`, with its
/// header written and synced and its space allocated.
fn new_segment(
    storage: &dyn Storage,
    dir: &Path,
    first_lsn: u64,
    size: u64,
    spare: Option<(PathBuf, Box<dyn WriteFile>)>,
) -> std::io::Result<Segment> {
    let path = segment_path(dir, first_lsn);
    let mut file = match spare {
        Some((spare_path, file)) => {
            storage.rename(&spare_path, &path)?;
            file
        }
        None => {
            let mut f = storage.create(&path)?;
            f.allocate(size)?;
            f
        }
    };
    file.write_at(0, &segment_header(first_lsn))?;
    file.sync()?;
    storage.sync_dir(dir)?;
    Ok(Segment {
        first_lsn,
        path,
        file,
        offset: SEGMENT_HEADER_LEN as u64,
    })
}

impl Writer {
    fn run(&mut self) {
        let result = self.serve();
        if let Err(e) = result {
            let message = format!("{} (segment {})", e, self.current.path.display());
            *self.log.failed.lock().unwrap_or_else(|p| p.into_inner()) = Some(message.clone());
            (self.on_durable)(Err(message));
        }
        self.log.stopped.store(true, Ordering::Release);
    }

    fn serve(&mut self) -> std::io::Result<()> {
        let settings = self.log.settings.clone();
        let sync = settings.mode == LogMode::Sync;
        let mut batch = Vec::with_capacity(1 << 20);
        loop {
            let (last, stop, release) = {
                let mut p = self.log.lock();
                while p.buf.is_empty() && !p.stop && p.release_upto.is_none() {
                    let wait = if sync {
                        Duration::from_secs(1)
                    } else {
                        settings.flush_interval
                    };
                    p.writer_waiting = true;
                    let (g, timeout) = self.log.wake.wait_timeout(p, wait).unwrap_or_else(|e| e.into_inner());
                    p = g;
                    p.writer_waiting = false;
                    if timeout.timed_out() {
                        break;
                    }
                }
                if sync && !settings.group_commit_wait.is_zero() && !p.buf.is_empty() && !p.stop {
                    drop(p);
                    std::thread::sleep(settings.group_commit_wait);
                    p = self.log.lock();
                }
                std::mem::swap(&mut p.buf, &mut batch);
                (p.next_lsn - 1, p.stop, p.release_upto.take())
            };
            if !batch.is_empty() {
                self.write_batch(&batch)?;
                batch.clear();
                if sync {
                    self.sync()?;
                }
                // Asynchronous mode releases results once their records are written to the
                // operating system: a killed process then loses nothing it acknowledged.
                self.durable(last);
            }
            if !sync && self.unsynced && (stop || self.last_sync.elapsed() >= settings.flush_interval) {
                self.sync()?;
            }
            if let Some(upto) = release {
                self.remove_covered(upto);
            }
            self.prepare_spare();
            if stop {
                if self.unsynced {
                    self.sync()?;
                }
                self.durable(last);
                return Ok(());
            }
        }
    }

    fn durable(&self, lsn: u64) {
        self.log.durable.fetch_max(lsn, Ordering::AcqRel);
        (self.on_durable)(Ok(lsn));
    }

    fn sync(&mut self) -> std::io::Result<()> {
        self.current.file.sync()?;
        self.unsynced = false;
        self.last_sync = Instant::now();
        self.log.stats.syncs.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }

    /// Writes a batch of whole frames, starting new segments where the current one is full
    /// (a record never spans two segments).
    fn write_batch(&mut self, batch: &[u8]) -> std::io::Result<()> {
        let size = self.log.settings.segment_bytes;
        let mut at = 0;
        while at < batch.len() {
            // How many whole frames fit in the current segment.
            let room = size.saturating_sub(self.current.offset) as usize;
            let (mut end, mut records) = frames_within(batch, at, room);
            if end == at {
                if self.current.offset > SEGMENT_HEADER_LEN as u64 {
                    self.rotate(first_lsn_at(batch, at))?;
                    continue;
                }
                // A record larger than a whole segment gets a segment of its own.
                end = frame_end(batch, at).unwrap_or(batch.len());
                records = 1;
            }
            self.current.file.write_at(self.current.offset, &batch[at..end])?;
            self.current.offset += (end - at) as u64;
            self.count(end - at, records);
            self.unsynced = true;
            at = end;
        }
        Ok(())
    }

    fn count(&self, bytes: usize, records: u64) {
        self.log.stats.bytes.fetch_add(bytes as u64, Ordering::Relaxed);
        self.log.stats.records.fetch_add(records, Ordering::Relaxed);
    }

    /// Closes the current segment (synced) and starts the next at `first_lsn`.
    fn rotate(&mut self, first_lsn: u64) -> std::io::Result<()> {
        self.current.file.sync()?;
        let spare = self.spare.take();
        let next = new_segment(
            &*self.storage,
            &self.dir,
            first_lsn,
            self.log.settings.segment_bytes,
            spare,
        )?;
        let old = std::mem::replace(&mut self.current, next);
        self.closed.push((old.first_lsn, old.path));
        Ok(())
    }

    /// Preallocates the next segment once the current one is half full; a failure (a full
    /// disk) refuses writes until a later try succeeds.
    fn prepare_spare(&mut self) {
        if self.spare.is_some() || self.current.offset < self.log.settings.segment_bytes / 2 {
            return;
        }
        let path = self.dir.join("next.vlog.spare");
        let made = self.storage.create(&path).and_then(|mut f| {
            f.allocate(self.log.settings.segment_bytes)?;
            Ok(f)
        });
        let mut full = self.log.disk_full.lock().unwrap_or_else(|e| e.into_inner());
        match made {
            Ok(f) => {
                self.spare = Some((path, f));
                *full = None;
            }
            Err(e) => {
                let _ = self.storage.remove_file(&path);
                *full = Some(e.to_string());
            }
        }
    }

    /// Removes closed segments whose every record is at most `upto`.
    fn remove_covered(&mut self, upto: u64) {
        let mut keep = Vec::new();
        let closed = std::mem::take(&mut self.closed);
        let next_firsts: Vec<u64> = closed
            .iter()
            .skip(1)
            .map(|(f, _)| *f)
            .chain([self.current.first_lsn])
            .collect();
        for ((first, path), next_first) in closed.into_iter().zip(next_firsts) {
            if next_first.saturating_sub(1) <= upto {
                if let Err(e) = self.storage.remove_file(&path) {
                    eprintln!("voltrs: could not remove command-log segment {}: {e}", path.display());
                    keep.push((first, path));
                }
            } else {
                keep.push((first, path));
            }
        }
        self.closed = keep;
        let _ = self.storage.sync_dir(&self.dir);
    }
}

/// The end of the frame at `at`, if the batch holds all of it.
fn frame_end(batch: &[u8], at: usize) -> Option<usize> {
    let head = batch.get(at..at + FRAME_LEN)?;
    let len = u32::from_be_bytes([head[0], head[1], head[2], head[3]]) as usize;
    let end = at + FRAME_LEN + len;
    (end <= batch.len()).then_some(end)
}

/// The end of the whole frames from `at` that fit in `room` bytes, and their count.
fn frames_within(batch: &[u8], at: usize, room: usize) -> (usize, u64) {
    let mut end = at;
    let mut n = 0;
    while let Some(next) = frame_end(batch, end) {
        if next - at > room {
            break;
        }
        end = next;
        n += 1;
    }
    (end, n)
}

/// The LSN of the frame at `at` (the payload starts with it).
fn first_lsn_at(batch: &[u8], at: usize) -> u64 {
    batch
        .get(at + FRAME_LEN..at + FRAME_LEN + 8)
        .map(|b| {
            let mut x = [0u8; 8];
            x.copy_from_slice(b);
            u64::from_be_bytes(x)
        })
        .unwrap_or(0)
}
