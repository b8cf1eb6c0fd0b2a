//! Outputs that are never half-written or mixed: single files written
//! atomically (an exclusive temporary beside the target, flushed, renamed
//! over it) and output folders built apart and swapped in as a whole
//! ([`OutputSet`]), so an interrupted run leaves the previous complete
//! outputs intact; inputs checked to be regular files before they are
//! opened.

use std::io::Write;
use std::path::{Path, PathBuf};

/// Writes a file through `fill`, atomically: into a temporary file beside
/// it, created exclusively (`O_EXCL`, a random name: a planted file or
/// symbolic link is never followed or overwritten), flushed to disk, then
/// renamed over `path` (which replaces a link at `path`, never its target).
pub fn write_atomically<F>(path: &Path, fill: F) -> std::io::Result<()>
where
    F: FnOnce(&mut std::io::BufWriter<std::fs::File>) -> std::io::Result<()>,
{
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "output".into());
    // Dropping the temporary file on any error removes it.
    let tmp = tempfile::Builder::new()
        .prefix(&format!(".{name}."))
        .suffix(".tmp")
        .tempfile_in(dir)?;
    let (file, tmp_path) = tmp.into_parts();
    // Temporaries are private (0600); the output is not.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        file.set_permissions(std::fs::Permissions::from_mode(0o644))?;
    }
    let mut out = std::io::BufWriter::with_capacity(1 << 20, file);
    fill(&mut out)?;
    let file = out.into_inner().map_err(|e| e.into_error())?;
    file.sync_all()?;
    tmp_path.persist(path).map_err(|e| e.error)
}

/// Marks a folder as a complete marrowgate output set; written last.
pub const OUTPUT_MARK: &str = ".marrowgate-output";

/// Why an output folder cannot be written.
#[derive(Debug, thiserror::Error)]
pub enum OutputDirError {
    /// The folder holds files that are not a marrowgate output.
    #[error(
        "{}: the folder exists and is not a marrowgate output folder (no {OUTPUT_MARK}); choose a new folder, empty it, or pass --replace to replace it as a whole",
        .0.display()
    )]
    Foreign(PathBuf),
    /// The path exists and is not a folder.
    #[error("{}: exists and is not a folder", .0.display())]
    NotAFolder(PathBuf),
    /// Reading or writing failed.
    #[error("{}: {source}", path.display())]
    Io {
        /// Path.
        path: PathBuf,
        /// Error.
        source: std::io::Error,
    },
}

/// The error of an I/O operation on `path`, as `map_err` takes it.
fn io(path: &Path) -> impl FnOnce(std::io::Error) -> OutputDirError {
    let path = path.to_path_buf();
    move |source| OutputDirError::Io { path, source }
}

/// An output folder built apart and put in place as a whole: files are
/// written into a fresh hidden sibling (`.NAME.marrowgate-XXXXXX`), and
/// [`OutputSet::commit`] swaps it with the target in one step. Readers of
/// the target see the previous complete set or the new complete set, never
/// a mixture; an interrupted run leaves the previous set untouched; of two
/// runs on one folder, the later commit wins whole.
pub struct OutputSet {
    target: PathBuf,
    staging: tempfile::TempDir,
}

impl OutputSet {
    /// Starts a set for `target`. Refuses a target that is not a folder,
    /// or a non-empty folder without [`OUTPUT_MARK`] unless `replace`.
    pub fn begin(target: &Path, replace: bool) -> Result<OutputSet, OutputDirError> {
        match std::fs::metadata(target) {
            Ok(m) if !m.is_dir() => return Err(OutputDirError::NotAFolder(target.into())),
            Ok(_) => {
                let marked = target.join(OUTPUT_MARK).is_file();
                let empty = std::fs::read_dir(target)
                    .map_err(io(target))?
                    .next()
                    .is_none();
                if !marked && !empty && !replace {
                    return Err(OutputDirError::Foreign(target.into()));
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(io(target)(e)),
        }
        let parent = match target.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        std::fs::create_dir_all(&parent).map_err(io(&parent))?;
        let name = target
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "out".into());
        // The staging folder's name carries this process's id: whatever a
        // killed run leaves (its staging folder, or the previous set it was
        // removing) is recognised and removed by the next run.
        let prefix = format!(".{name}.marrowgate-");
        remove_abandoned(&parent, &prefix);
        let staging = tempfile::Builder::new()
            .prefix(&format!("{prefix}{}-", std::process::id()))
            .tempdir_in(&parent)
            .map_err(io(&parent))?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            std::fs::set_permissions(staging.path(), std::fs::Permissions::from_mode(0o755))
                .map_err(io(staging.path()))?;
        }
        Ok(OutputSet {
            target: target.to_path_buf(),
            staging,
        })
    }

    /// The folder to write into now.
    pub fn dir(&self) -> &Path {
        self.staging.path()
    }

    /// Where the set will be once committed.
    pub fn target(&self) -> &Path {
        &self.target
    }

    /// Marks the set complete and puts it in place of the target.
    pub fn commit(self, mark: &[u8]) -> Result<(), OutputDirError> {
        let staging = self.staging.path().to_path_buf();
        write_bytes_atomically(&staging.join(OUTPUT_MARK), mark).map_err(io(&staging))?;
        sync_dir(&staging);
        // From here the staging folder must survive its guard: it becomes
        // the target (and then holds the previous set, which is removed).
        let staging = self.staging.keep();
        let target = &self.target;
        let result = if target.symlink_metadata().is_ok() {
            swap(&staging, target)
        } else {
            match std::fs::rename(&staging, target) {
                // Another run created the target in between: swap instead.
                Err(e) if target.symlink_metadata().is_ok() => swap(&staging, target).or(Err(e)),
                r => r,
            }
        };
        match result {
            Ok(()) => {
                if let Some(parent) = target.parent() {
                    sync_dir(parent);
                }
                // `staging` now holds the previous set (or nothing).
                if staging.symlink_metadata().is_ok() {
                    let _ = if staging.is_symlink() {
                        std::fs::remove_file(&staging)
                    } else {
                        std::fs::remove_dir_all(&staging)
                    };
                }
                Ok(())
            }
            Err(e) => {
                let _ = std::fs::remove_dir_all(&staging);
                Err(io(target)(e))
            }
        }
    }
}

/// Removes staging folders (`prefix<pid>-*` in `parent`) left by runs that
/// were killed: their process no longer exists. A folder whose process is
/// alive, or cannot be told, is left alone.
fn remove_abandoned(parent: &Path, prefix: &str) {
    let Ok(entries) = std::fs::read_dir(parent) else {
        return;
    };
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        let Some(rest) = name.strip_prefix(prefix) else {
            continue;
        };
        let owner = rest
            .split('-')
            .next()
            .and_then(|pid| pid.parse::<i32>().ok());
        if let Some(pid) = owner
            && pid != std::process::id() as i32
            && !process_alive(pid)
        {
            let _ = std::fs::remove_dir_all(e.path());
        }
    }
}

/// Whether a process exists (Unix; elsewhere assumed alive).
fn process_alive(pid: i32) -> bool {
    #[cfg(unix)]
    {
        // SAFETY: signal 0 only checks that the process exists.
        let rc = unsafe { libc::kill(pid, 0) };
        rc == 0 || std::io::Error::last_os_error().raw_os_error() != Some(libc::ESRCH)
    }
    #[cfg(not(unix))]
    {
        let _ = pid;
        true
    }
}

/// Exchanges two paths in one step (Linux `renameat2(RENAME_EXCHANGE)`);
/// where the system or file system cannot, moves the old one aside first
/// (two renames: a reader may briefly find no folder, never a mixture).
fn swap(new: &Path, target: &Path) -> std::io::Result<()> {
    #[cfg(target_os = "linux")]
    {
        use std::os::unix::ffi::OsStrExt as _;
        let c = |p: &Path| std::ffi::CString::new(p.as_os_str().as_bytes());
        let (a, b) = (c(new)?, c(target)?);
        // SAFETY: both are valid NUL-terminated paths; the call only
        // renames.
        let rc = unsafe {
            libc::renameat2(
                libc::AT_FDCWD,
                a.as_ptr(),
                libc::AT_FDCWD,
                b.as_ptr(),
                libc::RENAME_EXCHANGE,
            )
        };
        if rc == 0 {
            return Ok(());
        }
        let e = std::io::Error::last_os_error();
        if !matches!(
            e.raw_os_error(),
            Some(libc::EINVAL) | Some(libc::ENOSYS) | Some(libc::EOPNOTSUPP)
        ) {
            return Err(e);
        }
    }
    let aside = new.with_extension("previous");
    std::fs::rename(target, &aside)?;
    if let Err(e) = std::fs::rename(new, target) {
        let _ = std::fs::rename(&aside, target);
        return Err(e);
    }
    // The caller removes `new`: put the previous set there.
    std::fs::rename(&aside, new)
}

/// Flushes a folder's entries to disk (best effort).
fn sync_dir(dir: &Path) {
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
}

/// What a path that is not a regular file is ("a folder", "a FIFO", "a
/// device", "a socket"), or `None` for a regular file. Inputs are checked
/// with it before they are opened: opening a FIFO blocks, a device never
/// ends.
pub fn not_regular(meta: &std::fs::Metadata) -> Option<&'static str> {
    if meta.is_file() {
        return None;
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt as _;
        let t = meta.file_type();
        if t.is_fifo() {
            return Some("a FIFO");
        }
        if t.is_char_device() || t.is_block_device() {
            return Some("a device");
        }
        if t.is_socket() {
            return Some("a socket");
        }
    }
    Some(if meta.is_dir() {
        "a folder"
    } else {
        "not a regular file"
    })
}

/// Writes `bytes` to `path` atomically.
pub fn write_bytes_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    write_atomically(path, |out| out.write_all(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failed_fill_keeps_old_file_and_leaves_no_temp() {
        let dir = std::env::temp_dir().join(format!("mg-io-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let target = dir.join("out.txt");
        write_bytes_atomically(&target, b"old").expect("first write");
        let failed = write_atomically(&target, |out| {
            out.write_all(b"partial")?;
            Err(std::io::Error::other("boom"))
        });
        assert!(failed.is_err());
        assert_eq!(std::fs::read(&target).expect("read"), b"old");
        let leftovers = std::fs::read_dir(&dir).expect("list").count();
        assert_eq!(leftovers, 1);
        std::fs::remove_dir_all(&dir).ok();
    }
}
