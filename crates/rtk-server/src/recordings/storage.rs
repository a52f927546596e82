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
    /// A file under `key` that grows as it is written (replacing any file there): what is
    /// written is readable as it goes, so a crash leaves the file up to the last write.
    fn append(&self, key: &str) -> io::Result<Box<dyn io::Write + Send>>;
    /// A reader of the file under `key`, and its length.
    fn open(&self, key: &str) -> io::Result<(Box<dyn io::Read + Send>, u64)>;
    /// The length of the file under `key`.
    fn size(&self, key: &str) -> io::Result<u64>;
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

    fn append(&self, key: &str) -> io::Result<Box<dyn io::Write + Send>> {
        let path = self.path(key)?;
        crate::secrets::ensure_private_dir(&self.root).map_err(io::Error::other)?;
        Ok(Box::new(std::fs::File::create(path)?))
    }

    fn open(&self, key: &str) -> io::Result<(Box<dyn io::Read + Send>, u64)> {
        let f = std::fs::File::open(self.path(key)?)?;
        let len = f.metadata()?.len();
        Ok((Box::new(f), len))
    }

    fn size(&self, key: &str) -> io::Result<u64> {
        Ok(std::fs::metadata(self.path(key)?)?.len())
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

    #[test]
    fn an_appended_file_is_readable_as_it_grows() {
        use std::io::{Read, Write};
        let dir = tempfile::tempdir().unwrap();
        let s = DirStorage::new(dir.path().join("recordings"));
        let mut w = s.append("live.flv").unwrap();
        w.write_all(b"FLV").unwrap();
        assert_eq!(s.size("live.flv").unwrap(), 3);
        w.write_all(b"123").unwrap();
        drop(w);
        let (mut r, len) = s.open("live.flv").unwrap();
        let mut got = vec![];
        r.read_to_end(&mut got).unwrap();
        assert_eq!((got.as_slice(), len), (&b"FLV123"[..], 6));
        assert!(s.append("../x").is_err() && s.open("a/b").is_err());
        assert_eq!(s.size("missing").unwrap_err().kind(), io::ErrorKind::NotFound);
    }
}
