//! Storage: a warehouse URL resolved to an `object_store` backend, and [`FileIO`], a thin
//! layer that attaches the path to every error and offers the create-only put the commit
//! protocol is built on.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use bytes::Bytes;
use futures::TryStreamExt;
use object_store::memory::InMemory;
use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt, PutMode, PutOptions, PutPayload};

use crate::clock::Clock;
use crate::error::{Error, ErrorKind, Result};

/// Where tables live: an object store and a root path inside it. Its `Debug` shows the URL
/// (credentials removed) and the store's short name, never the store's configuration.
#[derive(Clone)]
pub struct FileIO {
    pub store: Arc<dyn ObjectStore>,
    /// The URL this was opened from, for messages.
    pub url: String,
    /// Where commit times, expiration ages and waits come from (the system clock unless
    /// [`FileIO::with_clock`] says otherwise).
    pub clock: Arc<dyn Clock>,
}

/// Outcome of a create-only put.
#[derive(Debug, PartialEq, Eq)]
pub enum Created {
    Yes,
    AlreadyExists,
}

impl std::fmt::Debug for FileIO {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "FileIO({}, {})", redact_location(&self.url), self.store)
    }
}

/// `location` with any `user:password@` of a URL replaced by `***@`, for messages.
pub fn redact_location(location: &str) -> String {
    match url::Url::parse(location) {
        Ok(mut url) if !url.username().is_empty() || url.password().is_some() => {
            let _ = url.set_password(None);
            let _ = url.set_username("***");
            url.to_string()
        }
        _ => location.to_string(),
    }
}

/// `location` itself when it holds no credentials, else its redacted form (which the URL
/// check then refuses, naming only the redacted form).
fn location_without_secrets<'a>(location: &'a str, redacted: &'a str) -> &'a str {
    if redacted == location {
        location
    } else {
        redacted
    }
}

impl FileIO {
    /// On a local warehouse (a path or `file://` URL), the directory `path` resolves to,
    /// following symbolic links; `None` elsewhere or when it does not exist.
    fn local_real_path(&self, path: &Path) -> Option<(std::path::PathBuf, std::path::PathBuf)> {
        if self.url.contains("://") && !self.url.starts_with("file://") {
            return None;
        }
        let dir = self.url.strip_prefix("file://").unwrap_or(&self.url);
        let root = std::fs::canonicalize(dir).ok()?;
        // As the local store maps a path to a file: joined as a URL, percent-decoded once.
        let file = url::Url::from_directory_path(&root)
            .ok()?
            .join(path.as_ref())
            .ok()?
            .to_file_path()
            .ok()?;
        Some((root, std::fs::canonicalize(file).ok()?))
    }

    /// On a local warehouse, an error when `path` exists and resolves (through symbolic links)
    /// outside the warehouse directory: a link must not let a table reach, or delete, files
    /// elsewhere. Nothing to check on object stores.
    pub fn check_within_warehouse(&self, path: &Path) -> Result<()> {
        match self.local_real_path(path) {
            Some((root, real)) if !real.starts_with(&root) => Err(Error::invalid(format!(
                "{path} leads outside the warehouse {} (a symbolic link to {}); refusing to use it",
                self.url,
                real.display()
            ))),
            _ => Ok(()),
        }
    }
}

fn memory_stores() -> &'static Mutex<HashMap<String, Arc<InMemory>>> {
    static STORES: OnceLock<Mutex<HashMap<String, Arc<InMemory>>>> = OnceLock::new();
    STORES.get_or_init(Default::default)
}

/// Resolves a warehouse location to a store and the root path of the warehouse in it.
///
/// - a plain path or `file:///abs/path`: the local filesystem (directories are created);
/// - `memory://name`: an in-memory store shared by everything in this process that opens the
///   same name;
/// - `s3://bucket/prefix`: S3 or an S3-compatible server, configured from the standard AWS
///   environment variables (`AWS_ENDPOINT_URL`/`AWS_ENDPOINT`, `AWS_REGION`,
///   `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`, `AWS_ALLOW_HTTP`).
pub fn open_warehouse(location: &str) -> Result<(FileIO, Path)> {
    open_warehouse_with(location, &[])
}

/// [`open_warehouse`] with storage options as `object_store`'s builders name them (for S3:
/// `aws_endpoint`, `aws_region`, `aws_access_key_id`, `aws_secret_access_key`,
/// `aws_session_token`, `aws_allow_http`, …). Options override the environment; local and
/// in-memory warehouses take none.
pub fn open_warehouse_with(location: &str, options: &[(String, String)]) -> Result<(FileIO, Path)> {
    let redacted = redact_location(location);
    let location = location_without_secrets(location, &redacted);
    let is_s3 = location.starts_with("s3://") || location.starts_with("s3a://");
    if let (false, Some((key, _))) = (is_s3, options.first()) {
        return Err(Error::invalid(format!(
            "storage option {key:?}: warehouse {location:?} takes no storage options (only s3:// does)"
        )));
    }
    if let Some(rest) = location.strip_prefix("memory://") {
        let store = memory_stores()
            .lock()
            .map_err(|_| Error::Internal("memory store registry poisoned".into()))?
            .entry(rest.to_string())
            .or_insert_with(|| Arc::new(InMemory::new()))
            .clone();
        return Ok((FileIO::new(store, location), Path::from("")));
    }
    if location.starts_with("s3://") || location.starts_with("s3a://") {
        let url = url::Url::parse(location)
            .map_err(|_| Error::invalid(format!("bad warehouse URL {redacted:?}")))?;
        if !url.username().is_empty() || url.password().is_some() {
            return Err(Error::invalid(format!(
                "warehouse URL {redacted:?}: credentials do not belong in the URL; use the AWS_* environment variables or storage options"
            )));
        }
        let bucket = url
            .host_str()
            .ok_or_else(|| Error::invalid(format!("warehouse URL {location:?} names no bucket")))?;
        let mut builder = object_store::aws::AmazonS3Builder::from_env().with_bucket_name(bucket);
        if std::env::var("AWS_REGION").is_err() && std::env::var("AWS_DEFAULT_REGION").is_err() {
            builder = builder.with_region("us-east-1");
        } else if let Ok(r) = std::env::var("AWS_DEFAULT_REGION") {
            if std::env::var("AWS_REGION").is_err() {
                builder = builder.with_region(r);
            }
        }
        for (key, value) in options {
            let k: object_store::aws::AmazonS3ConfigKey = key.parse().map_err(|e| {
                Error::invalid(format!("storage option {key:?} for {location:?}: {e}"))
            })?;
            builder = builder.with_config(k, value);
        }
        let store = builder
            .build()
            .map_err(|e| Error::invalid(format!("cannot configure S3 for {location:?}: {e}")))?;
        let root = Path::from(url.path().trim_matches('/'));
        return Ok((FileIO::new(Arc::new(store), location), root));
    }
    let dir = match location.strip_prefix("file://") {
        Some(p) => p.to_string(),
        None if location.contains("://") => {
            return Err(Error::invalid(format!(
            "unsupported warehouse URL {location:?}: use a local path, file://, memory:// or s3://"
        )))
        }
        None => location.to_string(),
    };
    std::fs::create_dir_all(&dir)
        .map_err(|e| Error::invalid(format!("cannot create warehouse directory {dir}: {e}")))?;
    let store = object_store::local::LocalFileSystem::new_with_prefix(&dir)
        .map_err(|e| Error::storage(&dir, e))?
        .with_automatic_cleanup(true);
    Ok((FileIO::new(Arc::new(store), location), Path::from("")))
}

impl FileIO {
    pub fn new(store: Arc<dyn ObjectStore>, url: impl Into<String>) -> Self {
        FileIO {
            store,
            url: url.into(),
            clock: crate::clock::system(),
        }
    }

    /// This FileIO reading its time from `clock`.
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// The same warehouse (URL, clock) over another store, usually one wrapping this one's.
    pub fn with_store(&self, store: Arc<dyn ObjectStore>) -> Self {
        FileIO {
            store,
            url: self.url.clone(),
            clock: self.clock.clone(),
        }
    }

    /// Milliseconds since the epoch by this FileIO's clock.
    pub fn now_millis(&self) -> i64 {
        self.clock.now_millis()
    }

    pub async fn read(&self, path: &Path) -> Result<Bytes> {
        match self.store.get(path).await {
            Ok(r) => r.bytes().await.map_err(|e| Error::storage(path, e)),
            Err(object_store::Error::NotFound { .. }) => {
                Err(Error::NotFound(format!("{path} in {}", self.url)))
            }
            Err(e) => Err(Error::storage(path, e)),
        }
    }

    /// Reads a file, or `None` when it does not exist.
    pub async fn read_opt(&self, path: &Path) -> Result<Option<Bytes>> {
        match self.read(path).await {
            Ok(b) => Ok(Some(b)),
            Err(e) if e.kind() == ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    pub async fn exists(&self, path: &Path) -> Result<bool> {
        match self.store.head(path).await {
            Ok(_) => Ok(true),
            Err(object_store::Error::NotFound { .. }) => Ok(false),
            Err(e) => Err(Error::storage(path, e)),
        }
    }

    /// Writes a file, replacing any previous content.
    pub async fn write(&self, path: &Path, data: impl Into<Bytes>) -> Result<()> {
        self.store
            .put(path, PutPayload::from_bytes(data.into()))
            .await
            .map(|_| ())
            .map_err(|e| Error::storage(path, e))
    }

    /// Writes a file only if no file exists at `path` (an `If-None-Match: *` PUT on S3, a
    /// no-replace hard link locally). This is the atomic step of every commit.
    pub async fn write_if_absent(&self, path: &Path, data: impl Into<Bytes>) -> Result<Created> {
        let opts = PutOptions {
            mode: PutMode::Create,
            ..Default::default()
        };
        match self
            .store
            .put_opts(path, PutPayload::from_bytes(data.into()), opts)
            .await
        {
            Ok(_) => Ok(Created::Yes),
            Err(object_store::Error::AlreadyExists { .. }) => Ok(Created::AlreadyExists),
            Err(object_store::Error::Precondition { .. }) => Ok(Created::AlreadyExists),
            Err(e) => Err(Error::storage(path, e)),
        }
    }

    pub async fn delete(&self, path: &Path) -> Result<()> {
        match self.store.delete(path).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(Error::storage(path, e)),
        }
    }

    /// Names (last path segment) of the files directly under `dir`.
    pub async fn list_names(&self, dir: &Path) -> Result<Vec<String>> {
        let listing = self.list_one_level(dir).await?;
        Ok(last_segments(listing.objects.iter().map(|o| &o.location)))
    }

    /// Names of the sub-directories directly under `dir`.
    pub async fn list_dirs(&self, dir: &Path) -> Result<Vec<String>> {
        let listing = self.list_one_level(dir).await?;
        Ok(last_segments(listing.common_prefixes.iter()))
    }

    async fn list_one_level(&self, dir: &Path) -> Result<object_store::ListResult> {
        self.store
            .list_with_delimiter(Some(dir))
            .await
            .map_err(|e| Error::storage(dir, e))
    }

    /// Every file under `dir`, recursively, with size and last-modified time.
    pub async fn list_recursive(&self, dir: &Path) -> Result<Vec<object_store::ObjectMeta>> {
        self.store
            .list(Some(dir))
            .try_collect()
            .await
            .map_err(|e| Error::storage(dir, e))
    }
}

fn last_segments<'a>(paths: impl Iterator<Item = &'a Path>) -> Vec<String> {
    paths
        .filter_map(|p| p.filename().map(str::to_string))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn create_only_put_refuses_the_second_writer() {
        let dir = tempfile::tempdir().unwrap();
        for loc in [
            dir.path().to_str().unwrap().to_string(),
            "memory://create-only".to_string(),
        ] {
            let (io, root) = open_warehouse(&loc).unwrap();
            let p = root.clone().join("snapshot").clone().join("snapshot-1");
            assert_eq!(io.write_if_absent(&p, "a").await.unwrap(), Created::Yes);
            assert_eq!(
                io.write_if_absent(&p, "b").await.unwrap(),
                Created::AlreadyExists
            );
            assert_eq!(&io.read(&p).await.unwrap()[..], b"a");
            assert!(matches!(
                io.read(&root.clone().join("nope")).await,
                Err(Error::NotFound(_))
            ));
        }
    }

    #[test]
    fn rejects_unknown_schemes() {
        let e = open_warehouse("ftp://x/y").unwrap_err().to_string();
        assert!(e.contains("ftp://x/y"), "{e}");
    }
}
