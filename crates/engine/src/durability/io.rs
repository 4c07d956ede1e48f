//! File I/O behind a small trait, so the command log and snapshots run unchanged on the
//! real file system ([`DiskStorage`]) and on an in-memory one that tests can crash, tear,
//! corrupt and fill ([`MemStorage`]).
//!
//! The model is the one `fdatasync` gives: bytes written to a file are durable only once
//! the file is synced; a crash keeps each file's synced bytes and, of the writes after the
//! last sync, possibly a prefix (a torn write). Creating, renaming and removing files are
//! treated as durable at once, and the real implementation syncs the directory after them.

use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::io;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// A file open for writing at chosen offsets.
pub trait WriteFile: Send {
    /// Writes all of `buf` at `offset`.
    fn write_at(&mut self, offset: u64, buf: &[u8]) -> io::Result<()>;
    /// Makes every byte written so far durable (`fdatasync`).
    fn sync(&mut self) -> io::Result<()>;
    /// Reserves `len` bytes of disk for the file and fills them with zeros (synced), so a
    /// full disk shows here rather than in a later write, and later syncs of overwrites
    /// need no metadata update.
    fn allocate(&mut self, len: u64) -> io::Result<()>;
    /// Cuts the file to `len` bytes.
    fn truncate(&mut self, len: u64) -> io::Result<()>;
}

/// The file operations durability needs.
pub trait Storage: Send + Sync {
    fn create_dir_all(&self, dir: &Path) -> io::Result<()>;
    /// The names of the files and folders in `dir`, sorted.
    fn list(&self, dir: &Path) -> io::Result<Vec<String>>;
    fn exists(&self, path: &Path) -> bool;
    /// The whole file.
    fn read(&self, path: &Path) -> io::Result<Vec<u8>>;
    /// Creates the file, empty (an existing one is truncated).
    fn create(&self, path: &Path) -> io::Result<Box<dyn WriteFile>>;
    /// Opens an existing file for writing.
    fn open(&self, path: &Path) -> io::Result<Box<dyn WriteFile>>;
    fn remove_file(&self, path: &Path) -> io::Result<()>;
    fn remove_dir_all(&self, path: &Path) -> io::Result<()>;
    fn rename(&self, from: &Path, to: &Path) -> io::Result<()>;
    /// Makes the directory's entries durable (after creating, renaming or removing files).
    fn sync_dir(&self, dir: &Path) -> io::Result<()>;
    /// Takes an exclusive lock on `path` (created if missing) for as long as the returned
    /// guard lives; fails with `WouldBlock` if another holder has it.
    fn lock(&self, path: &Path) -> io::Result<Box<dyn Send + Sync>>;
}

/// The real file system.
#[derive(Debug, Default, Clone, Copy)]
pub struct DiskStorage;

struct DiskFile(File);

impl WriteFile for DiskFile {
    fn write_at(&mut self, offset: u64, buf: &[u8]) -> io::Result<()> {
        self.0.write_all_at(buf, offset)
    }

    fn sync(&mut self) -> io::Result<()> {
        self.0.sync_data()
    }

    fn allocate(&mut self, len: u64) -> io::Result<()> {
        use std::os::fd::AsRawFd;
        let Ok(len) = libc::off_t::try_from(len) else {
            return Err(io::Error::new(io::ErrorKind::InvalidInput, "allocation too large"));
        };
        // SAFETY: the descriptor is open for the life of `self.0`; posix_fallocate only
        // reads its integer arguments.
        let rc = unsafe { libc::posix_fallocate(self.0.as_raw_fd(), 0, len) };
        match rc {
            0 => {}
            // File systems without fallocate: reserve by setting the length (sparse).
            libc::EOPNOTSUPP | libc::EINVAL => self.0.set_len(len as u64)?,
            e => return Err(io::Error::from_raw_os_error(e)),
        }
        // Write the zeros too: a sync after overwriting written blocks needs no metadata
        // update, while the first write to a fallocated (unwritten) extent does.
        let zeros = vec![0u8; 1 << 20];
        let mut at = 0u64;
        while at < len as u64 {
            let n = (len as u64 - at).min(zeros.len() as u64) as usize;
            self.0.write_all_at(&zeros[..n], at)?;
            at += n as u64;
        }
        self.0.sync_all()
    }

    fn truncate(&mut self, len: u64) -> io::Result<()> {
        self.0.set_len(len)
    }
}

impl Storage for DiskStorage {
    fn create_dir_all(&self, dir: &Path) -> io::Result<()> {
        std::fs::create_dir_all(dir)
    }

    fn list(&self, dir: &Path) -> io::Result<Vec<String>> {
        let mut names = Vec::new();
        for entry in std::fs::read_dir(dir)? {
            names.push(entry?.file_name().to_string_lossy().into_owned());
        }
        names.sort();
        Ok(names)
    }

    fn exists(&self, path: &Path) -> bool {
        path.exists()
    }

    fn read(&self, path: &Path) -> io::Result<Vec<u8>> {
        std::fs::read(path)
    }

    fn create(&self, path: &Path) -> io::Result<Box<dyn WriteFile>> {
        let f = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(true)
            .open(path)?;
        Ok(Box::new(DiskFile(f)))
    }

    fn open(&self, path: &Path) -> io::Result<Box<dyn WriteFile>> {
        let f = OpenOptions::new().read(true).write(true).open(path)?;
        Ok(Box::new(DiskFile(f)))
    }

    fn remove_file(&self, path: &Path) -> io::Result<()> {
        std::fs::remove_file(path)
    }

    fn remove_dir_all(&self, path: &Path) -> io::Result<()> {
        std::fs::remove_dir_all(path)
    }

    fn rename(&self, from: &Path, to: &Path) -> io::Result<()> {
        std::fs::rename(from, to)
    }

    fn sync_dir(&self, dir: &Path) -> io::Result<()> {
        File::open(dir)?.sync_all()
    }

    fn lock(&self, path: &Path) -> io::Result<Box<dyn Send + Sync>> {
        use std::os::fd::AsRawFd;
        let f = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(path)?;
        // SAFETY: flock only reads the descriptor, which `f` keeps open.
        let rc = unsafe { libc::flock(f.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
        if rc != 0 {
            return Err(io::Error::last_os_error());
        }
        let _ = f.set_len(0);
        let _ = f.write_all_at(format!("{}\n", std::process::id()).as_bytes(), 0);
        // The lock lives as long as the descriptor.
        Ok(Box::new(f))
    }
}

/// One in-memory file: what a crash keeps and what it may lose.
#[derive(Debug, Default, Clone)]
struct MemFile {
    /// The content as written (what a read sees).
    data: Vec<u8>,
    /// The content at the last sync (what a crash keeps at least).
    synced: Vec<u8>,
}

#[derive(Debug, Default)]
struct MemState {
    /// Names to files ("inodes"): an open file follows its file through a rename.
    names: BTreeMap<PathBuf, u64>,
    files: BTreeMap<u64, MemFile>,
    next_inode: u64,
    dirs: std::collections::BTreeSet<PathBuf>,
    /// Bytes the disk can still take; `None` is unlimited.
    space: Option<u64>,
    /// Every sync fails (an I/O error) while set.
    failing_sync: bool,
    locks: std::collections::BTreeSet<PathBuf>,
    /// Bumped by a crash: files opened before it are dead (the process that had them is
    /// gone), so their writes and syncs fail.
    generation: u64,
}

impl MemState {
    fn file(&self, path: &Path) -> Option<&MemFile> {
        self.names.get(path).and_then(|i| self.files.get(i))
    }

    /// Unlinks a name; its file goes too, and its bytes are free again.
    fn unlink(&mut self, path: &Path) -> Option<()> {
        let inode = self.names.remove(path)?;
        if let Some(f) = self.files.remove(&inode)
            && let Some(space) = self.space
        {
            self.space = Some(space + f.data.len() as u64);
        }
        Some(())
    }
}

/// An in-memory file system for fault tests: [`MemStorage::crash`] drops unsynced bytes
/// (keeping a chosen prefix, a torn write), [`MemStorage::flip_bit`] corrupts a byte,
/// [`MemStorage::set_space`] fills the disk and [`MemStorage::fail_syncs`] makes every
/// sync fail.
#[derive(Debug, Default, Clone)]
pub struct MemStorage(Arc<Mutex<MemState>>, Arc<SyncHold>);

/// Holds syncs until released ([`MemStorage::hold_syncs`]).
#[derive(Debug, Default)]
struct SyncHold {
    held: Mutex<bool>,
    released: std::sync::Condvar,
}

impl MemStorage {
    pub fn new() -> MemStorage {
        MemStorage::default()
    }

    fn state(&self) -> std::sync::MutexGuard<'_, MemState> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A crash: every file goes back to its synced content plus `torn` bytes of what was
    /// written after (at most what was written). Files open before it stop working and
    /// locks are released, as when the process dies.
    pub fn crash(&self, torn: usize) {
        let mut st = self.state();
        st.generation += 1;
        st.locks.clear();
        for f in st.files.values_mut() {
            let start = common_prefix(&f.data, &f.synced);
            let end = f.data.len().min(start.saturating_add(torn)).max(start);
            let mut kept = f.synced.clone();
            if end > kept.len() {
                kept.resize(end, 0);
            }
            if let (Some(to), Some(from)) = (kept.get_mut(start..end), f.data.get(start..end)) {
                to.copy_from_slice(from);
            }
            f.data = kept.clone();
            f.synced = kept;
        }
    }

    /// Flips one bit of a file's content (synced too: the disk went bad).
    pub fn flip_bit(&self, path: &Path, offset: usize, bit: u8) -> bool {
        let mut st = self.state();
        let Some(inode) = st.names.get(path).copied() else {
            return false;
        };
        let Some(f) = st.files.get_mut(&inode) else {
            return false;
        };
        let Some(b) = f.data.get_mut(offset) else {
            return false;
        };
        *b ^= 1 << (bit % 8);
        let v = *b;
        if let Some(s) = f.synced.get_mut(offset) {
            *s = v;
        }
        true
    }

    /// Leaves `bytes` of free space (`None`: unlimited); writing past it fails with ENOSPC.
    pub fn set_space(&self, bytes: Option<u64>) {
        self.state().space = bytes;
    }

    /// While `held`, every sync waits (a slow disk); releasing lets them finish.
    pub fn hold_syncs(&self, held: bool) {
        *self.1.held.lock().unwrap_or_else(|e| e.into_inner()) = held;
        if !held {
            self.1.released.notify_all();
        }
    }

    /// Makes every sync fail with an I/O error (or succeed again).
    pub fn fail_syncs(&self, failing: bool) {
        self.state().failing_sync = failing;
    }

    /// A file's current content.
    pub fn content(&self, path: &Path) -> Option<Vec<u8>> {
        self.state().file(path).map(|f| f.data.clone())
    }

    /// Every file's path.
    pub fn paths(&self) -> Vec<PathBuf> {
        self.state().names.keys().cloned().collect()
    }

    fn handle(&self, st: &MemState, inode: u64) -> Box<dyn WriteFile> {
        Box::new(MemWriteFile {
            storage: self.clone(),
            inode,
            generation: st.generation,
        })
    }
}

fn common_prefix(a: &[u8], b: &[u8]) -> usize {
    a.iter().zip(b).take_while(|(x, y)| x == y).count()
}

fn not_found(path: &Path) -> io::Error {
    io::Error::new(io::ErrorKind::NotFound, format!("{} not found", path.display()))
}

struct MemWriteFile {
    storage: MemStorage,
    inode: u64,
    generation: u64,
}

impl MemWriteFile {
    /// The state and this file, unless the simulated process crashed since it was opened.
    fn with<T>(&self, f: impl FnOnce(&mut MemState, u64) -> io::Result<T>) -> io::Result<T> {
        let mut st = self.storage.state();
        if st.generation != self.generation {
            return Err(io::Error::other("the simulated process crashed"));
        }
        if !st.files.contains_key(&self.inode) {
            return Err(io::Error::new(io::ErrorKind::NotFound, "the file was removed"));
        }
        f(&mut st, self.inode)
    }
}

/// Grows a file to `end` bytes, charging the growth to the free space.
fn grow(st: &mut MemState, inode: u64, end: usize) -> io::Result<()> {
    let len = st.files.get(&inode).map_or(0, |f| f.data.len());
    if end > len {
        let more = (end - len) as u64;
        if let Some(space) = st.space {
            if more > space {
                return Err(io::Error::from_raw_os_error(libc::ENOSPC));
            }
            st.space = Some(space - more);
        }
        if let Some(f) = st.files.get_mut(&inode) {
            f.data.resize(end, 0);
        }
    }
    Ok(())
}

impl WriteFile for MemWriteFile {
    fn write_at(&mut self, offset: u64, buf: &[u8]) -> io::Result<()> {
        self.with(|st, inode| {
            let start = offset as usize;
            let end = start + buf.len();
            grow(st, inode, end)?;
            if let Some(to) = st.files.get_mut(&inode).and_then(|f| f.data.get_mut(start..end)) {
                to.copy_from_slice(buf);
            }
            Ok(())
        })
    }

    fn sync(&mut self) -> io::Result<()> {
        let hold = &self.storage.1;
        let mut held = hold.held.lock().unwrap_or_else(|e| e.into_inner());
        while *held {
            held = hold.released.wait(held).unwrap_or_else(|e| e.into_inner());
        }
        drop(held);
        self.with(|st, inode| {
            if st.failing_sync {
                return Err(io::Error::other("simulated fdatasync failure"));
            }
            if let Some(f) = st.files.get_mut(&inode) {
                f.synced = f.data.clone();
            }
            Ok(())
        })
    }

    fn allocate(&mut self, len: u64) -> io::Result<()> {
        self.with(|st, inode| grow(st, inode, len as usize))
    }

    fn truncate(&mut self, len: u64) -> io::Result<()> {
        self.with(|st, inode| {
            if let Some(f) = st.files.get_mut(&inode) {
                f.data.truncate(len as usize);
                f.synced.truncate(len as usize);
            }
            Ok(())
        })
    }
}

impl Storage for MemStorage {
    fn create_dir_all(&self, dir: &Path) -> io::Result<()> {
        let mut st = self.state();
        for a in dir.ancestors() {
            st.dirs.insert(a.to_path_buf());
        }
        Ok(())
    }

    fn list(&self, dir: &Path) -> io::Result<Vec<String>> {
        let st = self.state();
        if !st.dirs.contains(dir) {
            return Err(not_found(dir));
        }
        let mut names: Vec<String> = st
            .names
            .keys()
            .chain(st.dirs.iter())
            .filter(|p| p.parent() == Some(dir))
            .filter_map(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
            .collect();
        names.sort();
        names.dedup();
        Ok(names)
    }

    fn exists(&self, path: &Path) -> bool {
        let st = self.state();
        st.names.contains_key(path) || st.dirs.contains(path)
    }

    fn read(&self, path: &Path) -> io::Result<Vec<u8>> {
        self.content(path).ok_or_else(|| not_found(path))
    }

    fn create(&self, path: &Path) -> io::Result<Box<dyn WriteFile>> {
        let mut st = self.state();
        if let Some(parent) = path.parent()
            && !st.dirs.contains(parent)
        {
            return Err(not_found(parent));
        }
        st.unlink(path);
        let inode = st.next_inode;
        st.next_inode += 1;
        st.files.insert(inode, MemFile::default());
        st.names.insert(path.to_path_buf(), inode);
        Ok(self.handle(&st, inode))
    }

    fn open(&self, path: &Path) -> io::Result<Box<dyn WriteFile>> {
        let st = self.state();
        let inode = *st.names.get(path).ok_or_else(|| not_found(path))?;
        Ok(self.handle(&st, inode))
    }

    fn remove_file(&self, path: &Path) -> io::Result<()> {
        self.state().unlink(path).ok_or_else(|| not_found(path))
    }

    fn remove_dir_all(&self, path: &Path) -> io::Result<()> {
        let mut st = self.state();
        if !st.dirs.contains(path) {
            return Err(not_found(path));
        }
        let gone: Vec<PathBuf> = st.names.keys().filter(|p| p.starts_with(path)).cloned().collect();
        for p in gone {
            st.unlink(&p);
        }
        st.dirs.retain(|d| !d.starts_with(path));
        Ok(())
    }

    fn rename(&self, from: &Path, to: &Path) -> io::Result<()> {
        let mut st = self.state();
        let inode = st.names.remove(from).ok_or_else(|| not_found(from))?;
        st.unlink(to);
        st.names.insert(to.to_path_buf(), inode);
        Ok(())
    }

    fn sync_dir(&self, _dir: &Path) -> io::Result<()> {
        Ok(())
    }

    fn lock(&self, path: &Path) -> io::Result<Box<dyn Send + Sync>> {
        if !self.state().locks.insert(path.to_path_buf()) {
            return Err(io::Error::from(io::ErrorKind::WouldBlock));
        }
        Ok(Box::new(MemLock {
            storage: self.clone(),
            path: path.to_path_buf(),
        }))
    }
}

struct MemLock {
    storage: MemStorage,
    path: PathBuf,
}

impl Drop for MemLock {
    fn drop(&mut self) {
        self.storage.state().locks.remove(&self.path);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_crash_keeps_synced_bytes_and_a_torn_prefix() {
        let s = MemStorage::new();
        let dir = Path::new("/d");
        s.create_dir_all(dir).unwrap();
        let p = dir.join("f");
        let mut f = s.create(&p).unwrap();
        f.write_at(0, b"hello").unwrap();
        f.sync().unwrap();
        f.write_at(5, b" world").unwrap();
        s.crash(3);
        assert_eq!(s.read(&p).unwrap(), b"hello wo");
        s.crash(0);
        assert_eq!(s.read(&p).unwrap(), b"hello wo");
    }

    #[test]
    fn a_full_disk_refuses_growth() {
        let s = MemStorage::new();
        s.create_dir_all(Path::new("/d")).unwrap();
        s.set_space(Some(4));
        let mut f = s.create(Path::new("/d/f")).unwrap();
        f.write_at(0, b"abcd").unwrap();
        let e = f.write_at(4, b"e").unwrap_err();
        assert_eq!(e.raw_os_error(), Some(libc::ENOSPC));
        assert!(f.allocate(100).is_err());
        s.fail_syncs(true);
        assert!(f.sync().is_err());
    }
}
