//! Where recording files live: a [`Storage`] (a directory under the data directory by default;
//! the seam an object store would plug into).

use std::io;
use std::path::PathBuf;

/// Stores and reads files by key (`/`-free names made by [`key_of`] plus an extension).
pub trait Storage: Send + Sync + std::fmt::Debug {
    /// Writes `bytes` under `key`, replacing any file there, atomically: a reader sees the old
    /// file or the whole new one.
    fn put(&self, key: &str, bytes: &[u8]) -> io::Result<()>;
    fn get(&self, key: &str) -> io::Result<Vec<u8>>;
}

/// The storage key of a recording's files: its id when that is a plain name, else its hex
/// (ids are opaque strings, and a fixture's may hold any character).
pub fn key_of(recording_id: &str) -> String {
    let plain = !recording_id.is_empty()
        && recording_id.len() <= 128
        && recording_id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if plain {
        recording_id.to_string()
    } else {
        let hex: String = recording_id.bytes().map(|b| format!("{b:02x}")).collect();
        format!("x{}", &hex[..hex.len().min(200)])
    }
}

/// Files in one directory (mode 0700), written to a temporary file and renamed into place.
#[derive(Debug, Clone)]
pub struct DirStorage {
    root: PathBuf,
}

impl DirStorage {
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }

    fn path(&self, key: &str) -> io::Result<PathBuf> {
        if key.is_empty() || key.contains(['/', '\\']) || key.starts_with('.') {
            return Err(io::Error::new(io::ErrorKind::InvalidInput, format!("not a storage key: {key:?}")));
        }
        Ok(self.root.join(key))
    }
}

impl Storage for DirStorage {
    fn put(&self, key: &str, bytes: &[u8]) -> io::Result<()> {
        let path = self.path(key)?;
        crate::secrets::ensure_private_dir(&self.root).map_err(io::Error::other)?;
        let tmp = self.root.join(format!(".{key}.{}.tmp", uuid::Uuid::new_v4()));
        std::fs::write(&tmp, bytes)?;
        std::fs::rename(&tmp, &path).inspect_err(|_| {
            let _ = std::fs::remove_file(&tmp);
        })
    }

    fn get(&self, key: &str) -> io::Result<Vec<u8>> {
        std::fs::read(self.path(key)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_plain_names() {
        assert_eq!(key_of("0190-abc_D"), "0190-abc_D");
        assert_eq!(key_of("a/b"), "x612f62");
        assert_eq!(key_of("../x"), "x2e2e2f78");
        assert!(!key_of(&"é".repeat(500)).contains('/'));
    }

    #[test]
    fn put_then_get_and_keys_cannot_escape() {
        let dir = tempfile::tempdir().unwrap();
        let s = DirStorage::new(dir.path().join("recordings"));
        s.put("r1.json", b"{}").unwrap();
        assert_eq!(s.get("r1.json").unwrap(), b"{}");
        s.put("r1.json", b"[1]").unwrap();
        assert_eq!(s.get("r1.json").unwrap(), b"[1]");
        assert!(s.put("../evil", b"x").is_err());
        assert!(s.get("a/b").is_err());
        assert_eq!(s.get("missing").unwrap_err().kind(), io::ErrorKind::NotFound);
    }
}
