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
    /// Reserves `len` bytes of disk for the file (`posix_fallocate`), so a full disk shows
    /// here rather than in a later write.
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
            0 => Ok(()),
            // File systems without fallocate: reserve by setting the length (sparse).
            libc::EOPNOTSUPP | libc::EINVAL => self.0.set_len(len as u64),
            e => Err(io::Error::from_raw_os_error(e)),
        }
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
    files: BTreeMap<PathBuf, MemFile>,
    dirs: std::collections::BTreeSet<PathBuf>,
    /// Bytes the disk can still take; `None` is unlimited.
    space: Option<u64>,
    /// Every sync fails (an I/O error) while set.
    failing_sync: bool,
}

/// An in-memory file system for fault tests: [`MemStorage::crash`] drops unsynced bytes
/// (keeping a chosen prefix, a torn write), [`MemStorage::flip_bit`] corrupts a byte,
/// [`MemStorage::set_space`] fills the disk and [`MemStorage::fail_syncs`] makes every
/// sync fail.
#[derive(Debug, Default, Clone)]
pub struct MemStorage(Arc<Mutex<MemState>>);

impl MemStorage {
    pub fn new() -> MemStorage {
        MemStorage::default()
    }

    fn state(&self) -> std::sync::MutexGuard<'_, MemState> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A crash: every file goes back to its synced content plus `torn` bytes of what was
    /// written after (at most what was written).
    pub fn crash(&self, torn: usize) {
        for f in self.state().files.values_mut() {
            let start = common_prefix(&f.data, &f.synced);
            let end = f.data.len().min(start + torn).max(start);
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
        let Some(f) = st.files.get_mut(path) else {
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

    /// Makes every sync fail with an I/O error (or succeed again).
    pub fn fail_syncs(&self, failing: bool) {
        self.state().failing_sync = failing;
    }

    /// A file's current content.
    pub fn content(&self, path: &Path) -> Option<Vec<u8>> {
        self.state().files.get(path).map(|f| f.data.clone())
    }

    /// Every file's path.
    pub fn paths(&self) -> Vec<PathBuf> {
        self.state().files.keys().cloned().collect()
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
    path: PathBuf,
}

impl MemWriteFile {
    /// Grows the file to `end`, charging the growth to the free space.
    fn grow(st: &mut MemState, path: &Path, end: usize) -> io::Result<()> {
        let len = st.files.get(path).map_or(0, |f| f.data.len());
        if end > len {
            let more = (end - len) as u64;
            if let Some(space) = st.space {
                if more > space {
                    return Err(io::Error::from_raw_os_error(libc::ENOSPC));
                }
                st.space = Some(space - more);
            }
            if let Some(f) = st.files.get_mut(path) {
                f.data.resize(end, 0);
            }
        }
        Ok(())
    }
}

impl WriteFile for MemWriteFile {
    fn write_at(&mut self, offset: u64, buf: &[u8]) -> io::Result<()> {
        let mut st = self.storage.state();
        if !st.files.contains_key(&self.path) {
            return Err(not_found(&self.path));
        }
        let start = offset as usize;
        let end = start + buf.len();
        MemWriteFile::grow(&mut st, &self.path, end)?;
        if let Some(f) = st.files.get_mut(&self.path) {
            f.data[start..end].copy_from_slice(buf);
        }
        Ok(())
    }

    fn sync(&mut self) -> io::Result<()> {
        let mut st = self.storage.state();
        if st.failing_sync {
            return Err(io::Error::other("simulated fdatasync failure"));
        }
        let f = st.files.get_mut(&self.path).ok_or_else(|| not_found(&self.path))?;
        f.synced = f.data.clone();
        Ok(())
    }

    fn allocate(&mut self, len: u64) -> io::Result<()> {
        let mut st = self.storage.state();
        MemWriteFile::grow(&mut st, &self.path, len as usize)
    }

    fn truncate(&mut self, len: u64) -> io::Result<()> {
        let mut st = self.storage.state();
        let f = st.files.get_mut(&self.path).ok_or_else(|| not_found(&self.path))?;
        f.data.truncate(len as usize);
        f.synced.truncate(len as usize);
        Ok(())
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
            .files
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
        st.files.contains_key(path) || st.dirs.contains(path)
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
        let old = st.files.insert(path.to_path_buf(), MemFile::default());
        if let (Some(old), Some(space)) = (old, st.space) {
            st.space = Some(space + old.data.len() as u64);
        }
        Ok(Box::new(MemWriteFile {
            storage: self.clone(),
            path: path.to_path_buf(),
        }))
    }

    fn open(&self, path: &Path) -> io::Result<Box<dyn WriteFile>> {
        if !self.state().files.contains_key(path) {
            return Err(not_found(path));
        }
        Ok(Box::new(MemWriteFile {
            storage: self.clone(),
            path: path.to_path_buf(),
        }))
    }

    fn remove_file(&self, path: &Path) -> io::Result<()> {
        let mut st = self.state();
        let f = st.files.remove(path).ok_or_else(|| not_found(path))?;
        if let Some(space) = st.space {
            st.space = Some(space + f.data.len() as u64);
        }
        Ok(())
    }

    fn remove_dir_all(&self, path: &Path) -> io::Result<()> {
        let mut st = self.state();
        if !st.dirs.contains(path) {
            return Err(not_found(path));
        }
        let gone: Vec<PathBuf> = st.files.keys().filter(|p| p.starts_with(path)).cloned().collect();
        for p in gone {
            if let Some(f) = st.files.remove(&p)
                && let Some(space) = st.space
            {
                st.space = Some(space + f.data.len() as u64);
            }
        }
        st.dirs.retain(|d| !d.starts_with(path));
        Ok(())
    }

    fn rename(&self, from: &Path, to: &Path) -> io::Result<()> {
        let mut st = self.state();
        let f = st.files.remove(from).ok_or_else(|| not_found(from))?;
        st.files.insert(to.to_path_buf(), f);
        Ok(())
    }

    fn sync_dir(&self, _dir: &Path) -> io::Result<()> {
        Ok(())
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
