//! Secrets at rest: the modes of the files in the data directory, and the key-encryption key
//! (KEK) that seals the participant-token signing keys kept in the database.
//!
//! Whoever reads a signing key can forge a participant token for any account, so the database
//! holds the keys only sealed (ChaCha20-Poly1305, the key id as associated data) under a KEK
//! kept in a key file of its own (`<data_dir>/signing.key` unless configured). A copy of the
//! database alone, then, is not enough to forge tokens. See `docs/operations.md`.

use std::fmt;
use std::io::Write;
use std::path::{Path, PathBuf};

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};
use rand::RngCore;

/// The key file's name in the data directory (its default place).
pub const KEY_FILE_NAME: &str = "signing.key";

/// How a sealed secret starts in the database; a plain one (older rtk) is 64 hex digits.
const SEALED_PREFIX: &str = "sealed:v1:";

/// Is this stored secret sealed (rather than the plain hex of older versions)?
pub fn is_sealed(stored: &str) -> bool {
    stored.starts_with(SEALED_PREFIX)
}

/// The key-encryption key, read from (or created as) its key file.
#[derive(Clone)]
pub struct Kek {
    cipher: ChaCha20Poly1305,
    path: PathBuf,
}

impl fmt::Debug for Kek {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Kek").field("path", &self.path).finish_non_exhaustive()
    }
}

impl Kek {
    /// Reads the key file at `path`. `Ok(None)` if it does not exist.
    pub fn read(path: &Path) -> anyhow::Result<Option<Kek>> {
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => anyhow::bail!("cannot read the signing key file {}: {e}", path.display()),
        };
        warn_if_loose(path, 0o600);
        let bytes = hex::decode(text.trim()).ok().filter(|b| b.len() == 32).ok_or_else(|| {
            anyhow::anyhow!(
                "the signing key file {} is not an rtk key file (64 hexadecimal digits expected)",
                path.display()
            )
        })?;
        Ok(Some(Self::from_bytes(&bytes, path)))
    }

    /// Creates a new key file at `path` (mode 0600). If another process created it first
    /// (nodes starting together on one shared path), reads that one instead.
    ///
    /// The key is written to a private temporary file beside it, synced, then hard-linked to
    /// `path`, which fails if `path` exists: the file appears whole or not at all, so a reader
    /// racing the creation, or a crash in the middle, never sees an empty key file.
    pub fn create(path: &Path) -> anyhow::Result<Kek> {
        let mut key = [0u8; 32];
        rand::thread_rng().fill_bytes(&mut key);
        let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let tmp = dir.join(format!(".{name}.{}.tmp", uuid::Uuid::new_v4().simple()));
        let written = create_private_file(&tmp).and_then(|mut f| {
            f.write_all(format!("{}\n", hex::encode(key)).as_bytes())?;
            f.sync_all()
        });
        if let Err(e) = written {
            let _ = std::fs::remove_file(&tmp);
            anyhow::bail!("cannot write the signing key file {}: {e}", path.display());
        }
        let linked = std::fs::hard_link(&tmp, path);
        let _ = std::fs::remove_file(&tmp);
        match linked {
            Ok(()) => {
                // The new name is durable only once its directory is.
                if let Ok(d) = std::fs::File::open(dir) {
                    let _ = d.sync_all();
                }
                Ok(Self::from_bytes(&key, path))
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Self::read(path)?
                .ok_or_else(|| anyhow::anyhow!("the signing key file {} vanished", path.display())),
            // A filesystem without hard links (vfat, some network mounts): create it in place.
            Err(_) => {
                let mut f = match create_private_file(path) {
                    Ok(f) => f,
                    Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                        return Self::read(path)?.ok_or_else(|| {
                            anyhow::anyhow!("the signing key file {} vanished", path.display())
                        })
                    }
                    Err(e) => anyhow::bail!("cannot create the signing key file {}: {e}", path.display()),
                };
                f.write_all(format!("{}\n", hex::encode(key)).as_bytes())
                    .and_then(|_| f.sync_all())
                    .map_err(|e| {
                        anyhow::anyhow!("cannot write the signing key file {}: {e}", path.display())
                    })?;
                Ok(Self::from_bytes(&key, path))
            }
        }
    }

    fn from_bytes(bytes: &[u8], path: &Path) -> Kek {
        Kek { cipher: ChaCha20Poly1305::new(Key::from_slice(bytes)), path: path.to_path_buf() }
    }

    /// The key file this KEK came from.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Seals `secret` (the signing key `kid`) for the database.
    pub fn seal(&self, kid: &str, secret: &[u8]) -> String {
        let mut nonce = [0u8; 12];
        rand::thread_rng().fill_bytes(&mut nonce);
        let sealed = self
            .cipher
            .encrypt(Nonce::from_slice(&nonce), Payload { msg: secret, aad: kid.as_bytes() })
            // Encryption fails only for inputs of gigabytes.
            .unwrap_or_default();
        let mut out = Vec::with_capacity(12 + sealed.len());
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&sealed);
        format!("{SEALED_PREFIX}{}", hex::encode(out))
    }

    /// Opens a sealed secret of the signing key `kid`; `None` if this KEK did not seal it (or
    /// it was tampered with, or moved to another key id).
    pub fn open(&self, kid: &str, stored: &str) -> Option<Vec<u8>> {
        let bytes = hex::decode(stored.strip_prefix(SEALED_PREFIX)?).ok()?;
        if bytes.len() < 12 {
            return None;
        }
        let (nonce, sealed) = bytes.split_at(12);
        self.cipher.decrypt(Nonce::from_slice(nonce), Payload { msg: sealed, aad: kid.as_bytes() }).ok()
    }
}

/// The mode bits of `path`, if it exists.
pub fn mode_of(path: &Path) -> Option<u32> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::metadata(path).ok().map(|m| m.permissions().mode() & 0o7777)
    }
    #[cfg(not(unix))]
    {
        let _ = path;
        None
    }
}

/// Warns (naming path and mode) when `path` exists with permissions beyond `max` — e.g. a
/// database readable by other local users. Never refuses: the operator may have reasons.
pub fn warn_if_loose(path: &Path, max: u32) {
    if let Some(mode) = mode_of(path) {
        if mode & !max & 0o777 != 0 {
            tracing::warn!(
                path = %path.display(),
                mode = %format!("{mode:04o}"),
                "{} has mode {mode:04o}: other local users can read it; tighten it with chmod {max:o} {}",
                path.display(),
                path.display(),
            );
        }
    }
}

/// Creates the data directory (and missing parents) with mode 0700, or warns if it exists
/// with a looser mode.
pub fn ensure_private_dir(dir: &Path) -> anyhow::Result<()> {
    if dir.is_dir() {
        warn_if_loose(dir, 0o700);
        return Ok(());
    }
    let mut b = std::fs::DirBuilder::new();
    b.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        b.mode(0o700);
    }
    b.create(dir).map_err(|e| anyhow::anyhow!("cannot create the data directory {}: {e}", dir.display()))
}

/// Creates `path` exclusively with mode 0600 (regardless of the umask's group and other
/// bits: the mode is given at creation, so the file is never readable by others).
pub fn create_private_file(path: &Path) -> std::io::Result<std::fs::File> {
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    opts.open(path)
}

/// Sets `path` to mode 0600 if it exists (SQLite's `-wal` and `-shm`, created by SQLite).
pub fn make_private(path: &Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if let Some(mode) = mode_of(path) {
            if mode & 0o077 != 0 {
                if let Err(e) = std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)) {
                    tracing::warn!(path = %path.display(), error = %e, "cannot make the file private");
                }
            }
        }
    }
    #[cfg(not(unix))]
    let _ = path;
}

/// `postgres://user:secret@host/db` → `postgres://user:***@host/db` (also `password=` in the
/// query string), for messages and logs.
pub fn redact_url(url: &str) -> String {
    let (head, query) = match url.split_once('?') {
        Some((h, q)) => (h, Some(q)),
        None => (url, None),
    };
    let mut out = match head.split_once("://") {
        Some((scheme, rest)) => {
            let (auth, host) = match rest.rsplit_once('@') {
                Some((a, h)) => (Some(a), h),
                None => (None, rest),
            };
            match auth {
                Some(a) => match a.split_once(':') {
                    Some((user, _)) => format!("{scheme}://{user}:***@{host}"),
                    None => format!("{scheme}://{a}@{host}"),
                },
                None => head.to_string(),
            }
        }
        None => head.to_string(),
    };
    if let Some(q) = query {
        let q: Vec<String> = q
            .split('&')
            .map(|kv| match kv.split_once('=') {
                Some((k, _)) if k.eq_ignore_ascii_case("password") => format!("{k}=***"),
                _ => kv.to_string(),
            })
            .collect();
        out.push('?');
        out.push_str(&q.join("&"));
    }
    out
}

/// Query parameters whose values are credentials (compared case-insensitively).
const SECRET_PARAMS: &[&str] =
    &["token", "access_token", "auth_token", "authtoken", "api_key", "apikey", "key"];

/// A request target for logs: credential query values (`?token=…`) and the chat download
/// link's token (`/chat-exports/…`) become `***`.
pub fn redact_uri(uri: &axum::http::Uri) -> String {
    let path = uri.path();
    let mut out = match path.strip_prefix("/chat-exports/") {
        Some(_) => "/chat-exports/***".to_string(),
        None => path.to_string(),
    };
    if let Some(q) = uri.query() {
        out.push('?');
        let parts: Vec<String> = q
            .split('&')
            .map(|kv| {
                let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
                // The name as the server will read it (`%74oken` and `to+ken` decode too).
                let name = form_urlencoded::parse(k.as_bytes())
                    .next()
                    .map(|(n, _)| n.into_owned())
                    .unwrap_or_default();
                let name = name.trim();
                if SECRET_PARAMS.iter().any(|s| name.eq_ignore_ascii_case(s)) && !v.is_empty() {
                    format!("{k}=***")
                } else {
                    kv.to_string()
                }
            })
            .collect();
        out.push_str(&parts.join("&"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_passwords() {
        assert_eq!(redact_url("postgres://u:p@w@h:5432/db"), "postgres://u:***@h:5432/db");
        assert_eq!(redact_url("postgres://u@h/db"), "postgres://u@h/db");
        assert_eq!(
            redact_url("postgres://h/db?password=x&sslmode=off"),
            "postgres://h/db?password=***&sslmode=off"
        );
        assert_eq!(redact_url("sqlite:///tmp/a.db"), "sqlite:///tmp/a.db");
    }

    #[test]
    fn redacts_uris() {
        let u: axum::http::Uri = "/gateway/v1?a=1&token=eyJ.x.y&TOKEN=z&b".parse().unwrap();
        assert_eq!(redact_uri(&u), "/gateway/v1?a=1&token=***&TOKEN=***&b");
        let u: axum::http::Uri = "/chat-exports/eyJ.x.y.csv".parse().unwrap();
        assert_eq!(redact_uri(&u), "/chat-exports/***");
        // Encoded names are read as the server reads them.
        let u: axum::http::Uri = "/gateway/v1?%74oken=eyJ.x.y&access%5Ftoken=q&api%5fkey=k".parse().unwrap();
        assert_eq!(redact_uri(&u), "/gateway/v1?%74oken=***&access%5Ftoken=***&api%5fkey=***");
    }

    #[test]
    fn seal_opens_only_with_its_key_and_kid() {
        let dir = tempfile::tempdir().unwrap();
        let a = Kek::create(&dir.path().join("a")).unwrap();
        let b = Kek::create(&dir.path().join("b")).unwrap();
        let s = a.seal("k1", b"secret");
        assert!(is_sealed(&s) && !s.contains(&hex::encode(b"secret")));
        assert_eq!(a.open("k1", &s).as_deref(), Some(&b"secret"[..]));
        assert_eq!(a.open("k2", &s), None, "bound to its key id");
        assert_eq!(b.open("k1", &s), None, "another key file does not open it");
        assert_eq!(
            Kek::read(&dir.path().join("a")).unwrap().unwrap().open("k1", &s).as_deref(),
            Some(&b"secret"[..])
        );
        assert_eq!(mode_of(&dir.path().join("a")).map(|m| m & 0o777), Some(0o600));
    }
}
