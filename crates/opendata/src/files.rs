//! Uploaded files on disk, content-addressed: the bytes of a file whose SHA-256 is `abcd…` are
//! at `files/ab/cd/abcd…` under the catalogue's directory, shared by every version (of any
//! resource) with the same content, never overwritten, never deleted by the catalogue.
//! `files/tmp/` holds uploads being received.
//!
//! A file is received into `tmp/` while it is hashed, flushed to disk (`fsync`), renamed into
//! place and the directory flushed too, so a crash leaves either the whole file or none. The
//! database row that points at a file is written after the file is durable: a crash between
//! the two leaves an unreferenced file (harmless, and reused by the next upload of the same
//! bytes), never a row without its file.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::token::hex;

/// Where a file's bytes are and what they are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredFile {
    /// Lower-case hex.
    pub sha256: String,
    pub size_bytes: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum FileError {
    #[error("the file is larger than {0} bytes")]
    TooLarge(u64),
    #[error("open data files: {0}")]
    Io(#[from] std::io::Error),
}

/// The content-addressed file store at `{dir}/files`.
#[derive(Debug, Clone)]
pub struct FileStore {
    root: PathBuf,
}

impl FileStore {
    pub fn new(dir: &Path) -> FileStore {
        FileStore {
            root: dir.join("files"),
        }
    }

    /// Where the bytes with this SHA-256 (lower-case hex, 64 characters) are kept.
    pub fn path_of(&self, sha256: &str) -> Option<PathBuf> {
        let valid = sha256.len() == 64
            && sha256
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
        let (a, rest) = sha256.split_at_checked(2)?;
        let b = rest.get(..2)?;
        valid.then(|| self.root.join(a).join(b).join(sha256))
    }

    /// A file being received, at most `max_bytes` long.
    pub fn receive(&self, max_bytes: u64) -> Result<Incoming, FileError> {
        let tmp = self.root.join("tmp");
        std::fs::create_dir_all(&tmp)?;
        let path = tmp.join(uuid::Uuid::new_v4().to_string());
        let file = std::fs::File::create(&path)?;
        Ok(Incoming {
            store: self.clone(),
            path,
            file: Some(file),
            hasher: Sha256::new(),
            size_bytes: 0,
            max_bytes,
        })
    }

    /// The whole file with this SHA-256.
    pub async fn read(&self, sha256: &str) -> Result<Vec<u8>, FileError> {
        let path = self
            .path_of(sha256)
            .ok_or_else(|| std::io::Error::from(std::io::ErrorKind::NotFound))?;
        tokio::task::spawn_blocking(move || std::fs::read(path))
            .await
            .map_err(|e| std::io::Error::other(e.to_string()))?
            .map_err(FileError::from)
    }
}

/// A file being received into `tmp/`; removed if dropped before [`Incoming::finish`].
#[derive(Debug)]
pub struct Incoming {
    store: FileStore,
    path: PathBuf,
    file: Option<std::fs::File>,
    hasher: Sha256,
    size_bytes: u64,
    max_bytes: u64,
}

impl Incoming {
    /// Appends a chunk; `TooLarge` past the limit (and the file is then discarded).
    pub fn write(&mut self, chunk: &[u8]) -> Result<(), FileError> {
        let length = u64::try_from(chunk.len()).unwrap_or(u64::MAX);
        self.size_bytes = self.size_bytes.saturating_add(length);
        if self.size_bytes > self.max_bytes {
            return Err(FileError::TooLarge(self.max_bytes));
        }
        self.hasher.update(chunk);
        match self.file.as_mut() {
            Some(file) => Ok(file.write_all(chunk)?),
            None => Err(std::io::Error::other("file already finished").into()),
        }
    }

    /// Flushes the file, moves it to its content address and flushes the directory.
    pub async fn finish(mut self) -> Result<StoredFile, FileError> {
        let sha256 = hex(&self.hasher.clone().finalize());
        let size_bytes = self.size_bytes;
        let target = self
            .store
            .path_of(&sha256)
            .ok_or_else(|| std::io::Error::other("bad hash"))?;
        let file = self
            .file
            .take()
            .ok_or_else(|| std::io::Error::other("file already finished"))?;
        let from = self.path.clone();
        tokio::task::spawn_blocking(move || place(file, &from, &target))
            .await
            .map_err(|e| std::io::Error::other(e.to_string()))??;
        Ok(StoredFile { sha256, size_bytes })
    }
}

fn place(file: std::fs::File, from: &Path, target: &Path) -> std::io::Result<()> {
    file.sync_all()?;
    drop(file);
    let parent = target
        .parent()
        .ok_or_else(|| std::io::Error::other("no parent"))?;
    std::fs::create_dir_all(parent)?;
    if target.exists() {
        // The same bytes are already kept: content addressing makes them the same file.
        std::fs::remove_file(from)?;
        return Ok(());
    }
    std::fs::rename(from, target)?;
    // The file's directory holds the new name; its two parents may hold new directories.
    let mut dir = Some(parent);
    for _ in 0..3 {
        if let Some(d) = dir {
            std::fs::File::open(d)?.sync_all()?;
            dir = d.parent();
        }
    }
    Ok(())
}

impl Drop for Incoming {
    fn drop(&mut self) {
        if self.file.is_some() {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[tokio::test]
    async fn content_addressed_round_trip() {
        let dir = std::env::temp_dir().join(format!("od-files-{}", uuid::Uuid::new_v4()));
        let store = FileStore::new(&dir);
        let mut incoming = store.receive(100).unwrap();
        incoming.write(b"abc").unwrap();
        let stored = incoming.finish().await.unwrap();
        assert_eq!(
            stored.sha256,
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        let path = store.path_of(&stored.sha256).unwrap();
        assert!(path.ends_with(
            "files/ba/78/ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        ));
        assert_eq!(store.read(&stored.sha256).await.unwrap(), b"abc");
        // The same bytes again: one file.
        let mut again = store.receive(100).unwrap();
        again.write(b"abc").unwrap();
        assert_eq!(again.finish().await.unwrap(), stored);
        // Too large: refused and nothing left in tmp.
        let mut big = store.receive(2).unwrap();
        assert!(matches!(big.write(b"abc"), Err(FileError::TooLarge(2))));
        drop(big);
        assert_eq!(std::fs::read_dir(dir.join("files/tmp")).unwrap().count(), 0);
        assert!(store.path_of("../../etc/passwd").is_none());
        std::fs::remove_dir_all(dir).unwrap();
    }
}
