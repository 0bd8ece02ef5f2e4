//! Resolving where a data or index file is stored: inside the table (its own store) or at an
//! absolute `_EXTERNAL_PATH`.

use std::sync::{Arc, OnceLock};

use object_store::local::LocalFileSystem;
use object_store::path::Path;
use object_store::ObjectStore;
use streamhouse_format::io::FileIO;
use streamhouse_format::{Error, Result};

fn local_root() -> &'static Arc<dyn ObjectStore> {
    static STORE: OnceLock<Arc<dyn ObjectStore>> = OnceLock::new();
    STORE.get_or_init(|| Arc::new(LocalFileSystem::new()))
}

/// The store and path of a file: `in_table` inside the table's store, or `external` (an
/// absolute URL or path such as `file:/data/x.parquet`, `/data/x.parquet` or
/// `s3://bucket/key` in the table's bucket).
pub fn resolve(
    io: &FileIO,
    in_table: &Path,
    external: Option<&str>,
) -> Result<(Arc<dyn ObjectStore>, Path)> {
    let Some(ext) = external else {
        return Ok((io.store.clone(), in_table.clone()));
    };
    let local = ext
        .strip_prefix("file://")
        .or_else(|| ext.strip_prefix("file:"))
        .or_else(|| ext.starts_with('/').then_some(ext));
    if let Some(p) = local {
        let p = p.trim_start_matches('/');
        let path =
            Path::parse(p).map_err(|e| Error::invalid(format!("external path {ext:?}: {e}")))?;
        return Ok((local_root().clone(), path));
    }
    for scheme in ["s3://", "s3a://"] {
        if let Some(rest) = ext.strip_prefix(scheme) {
            let (bucket, key) = rest.split_once('/').unwrap_or((rest, ""));
            let table_bucket = io
                .url
                .strip_prefix("s3://")
                .or_else(|| io.url.strip_prefix("s3a://"))
                .map(|r| r.split('/').next().unwrap_or(""));
            if table_bucket == Some(bucket) {
                let path = Path::parse(key)
                    .map_err(|e| Error::invalid(format!("external path {ext:?}: {e}")))?;
                return Ok((io.store.clone(), path));
            }
        }
    }
    Err(Error::unsupported(format!(
        "external file location {ext:?} (only local paths and the table's own S3 bucket are supported)"
    )))
}

/// Whether the store of a file serves several byte ranges best in one call (local disk and
/// memory: one open file, no request per range) rather than as concurrent requests (S3).
pub fn reads_ranges_together(io: &FileIO, external: Option<&str>) -> bool {
    match external {
        Some(ext) => !ext.contains("://") || ext.starts_with("file:"),
        None => {
            let url = io.url.as_str();
            !url.contains("://") || url.starts_with("file:") || url.starts_with("memory:")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolves_local_and_same_bucket_paths() {
        let (io, _) = streamhouse_format::io::open_warehouse("memory://loc").unwrap();
        let (_, p) = resolve(&io, &Path::from("t/bucket-0/f"), None).unwrap();
        assert_eq!(p.as_ref(), "t/bucket-0/f");
        let (_, p) = resolve(&io, &Path::from("x"), Some("file:/data/ext/f.parquet")).unwrap();
        assert_eq!(p.as_ref(), "data/ext/f.parquet");
        let (_, p) = resolve(&io, &Path::from("x"), Some("file:///data/f")).unwrap();
        assert_eq!(p.as_ref(), "data/f");
        assert!(resolve(&io, &Path::from("x"), Some("oss://b/k")).is_err());
    }

    #[test]
    fn local_and_memory_stores_read_ranges_together() {
        let (mem, _) = streamhouse_format::io::open_warehouse("memory://loc2").unwrap();
        assert!(reads_ranges_together(&mem, None));
        assert!(reads_ranges_together(&mem, Some("/data/f.parquet")));
        assert!(!reads_ranges_together(&mem, Some("s3://b/k")));
        let s3 = FileIO::new(mem.store.clone(), "s3://bucket/wh");
        assert!(!reads_ranges_together(&s3, None));
        assert!(reads_ranges_together(&s3, Some("file:/data/f")));
    }
}
