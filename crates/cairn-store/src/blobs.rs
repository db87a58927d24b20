//! Blobs (badge images, evidence files, baked awards) in a content-addressed object store: local
//! files by default, any `object_store` backend behind the same calls.
//!
//! Nothing here knows which blobs are in use: rows in the database refer to blobs by key, and
//! the sweep (`crate::sweep`) deletes the ones no row refers to.

use crate::StoreError;
use futures_util::StreamExt;
use object_store::local::LocalFileSystem;
use object_store::path::Path as ObjectPath;
use object_store::{ObjectMeta, ObjectStore, ObjectStoreExt, PutPayload};
use sha2::{Digest, Sha256};
use std::sync::Arc;
use time::OffsetDateTime;

/// One stored blob, as listed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlobInfo {
    pub key: String,
    pub size: u64,
    /// When it was last written (a re-upload of the same content writes it again).
    pub last_modified: OffsetDateTime,
}

impl BlobInfo {
    fn from_meta(meta: &ObjectMeta) -> BlobInfo {
        let last_modified = OffsetDateTime::from_unix_timestamp(meta.last_modified.timestamp()).unwrap_or(OffsetDateTime::UNIX_EPOCH);
        BlobInfo { key: meta.location.to_string(), size: meta.size, last_modified }
    }
}

/// Where blobs live. Keys are `<prefix>/<sha256>.<ext>`, so equal content is stored once.
#[derive(Clone)]
pub struct Blobs {
    inner: Arc<dyn ObjectStore>,
}

impl std::fmt::Debug for Blobs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Blobs").finish_non_exhaustive()
    }
}

impl Blobs {
    /// Blobs as files under `dir` (created if missing).
    ///
    /// # Errors
    /// [`StoreError::Config`] when the directory cannot be created.
    pub fn local(dir: &std::path::Path) -> Result<Blobs, StoreError> {
        std::fs::create_dir_all(dir).map_err(|e| StoreError::Config(format!("cannot create the blob directory {}: {e}", dir.display())))?;
        let store = LocalFileSystem::new_with_prefix(dir).map_err(StoreError::Blob)?;
        Ok(Blobs { inner: Arc::new(store) })
    }

    /// Blobs in memory (tests).
    pub fn in_memory() -> Blobs {
        Blobs { inner: Arc::new(object_store::memory::InMemory::new()) }
    }

    /// Stores `bytes` under a key derived from their SHA-256 and returns the key.
    ///
    /// # Errors
    /// [`StoreError::Blob`] when the write fails.
    pub async fn put(&self, prefix: &str, extension: &str, bytes: Vec<u8>) -> Result<String, StoreError> {
        let digest = Sha256::digest(&bytes);
        let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
        let key = format!("{prefix}/{hex}.{extension}");
        self.inner.put(&ObjectPath::from(key.as_str()), PutPayload::from(bytes)).await.map_err(StoreError::Blob)?;
        Ok(key)
    }

    /// The bytes stored under `key`.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] for an unknown key, [`StoreError::Blob`] on other failures.
    pub async fn get(&self, key: &str) -> Result<Vec<u8>, StoreError> {
        let path = ObjectPath::parse(key).map_err(|_| StoreError::not_found("blob", key))?;
        match self.inner.get(&path).await {
            Ok(result) => Ok(result.bytes().await.map_err(StoreError::Blob)?.to_vec()),
            Err(object_store::Error::NotFound { .. }) => Err(StoreError::not_found("blob", key)),
            Err(error) => Err(StoreError::Blob(error)),
        }
    }

    /// Every stored blob, in no particular order, in batches of at most `batch` so that a large
    /// store is never listed into memory at once.
    pub(crate) fn listing(&self, batch: usize) -> Listing {
        Listing { stream: self.inner.list(None), batch: batch.max(1) }
    }

    /// Every stored blob, in no particular order (tests and operators' checks).
    ///
    /// # Errors
    /// [`StoreError::Blob`] when listing fails.
    pub async fn list(&self) -> Result<Vec<BlobInfo>, StoreError> {
        let mut listing = self.listing(256);
        let mut all = Vec::new();
        while let Some(batch) = listing.next_batch().await? {
            all.extend(batch);
        }
        Ok(all)
    }

    /// How many blobs are stored.
    ///
    /// # Errors
    /// [`StoreError::Blob`] when listing fails.
    pub async fn count(&self) -> Result<usize, StoreError> {
        Ok(self.list().await?.len())
    }

    /// Deletes the blob under `key` if it was last written before `cutoff`, checking its time
    /// again just before deleting, so a blob written anew since it was listed (an upload of the
    /// same content) stays. Returns whether it was deleted; an absent blob counts as not.
    ///
    /// # Errors
    /// [`StoreError::Blob`] when the store fails.
    pub(crate) async fn delete_if_older(&self, key: &str, cutoff: OffsetDateTime) -> Result<bool, StoreError> {
        let Ok(path) = ObjectPath::parse(key) else { return Ok(false) };
        let meta = match self.inner.head(&path).await {
            Ok(meta) => meta,
            Err(object_store::Error::NotFound { .. }) => return Ok(false),
            Err(error) => return Err(StoreError::Blob(error)),
        };
        if BlobInfo::from_meta(&meta).last_modified >= cutoff {
            return Ok(false);
        }
        match self.inner.delete(&path).await {
            Ok(()) => Ok(true),
            Err(object_store::Error::NotFound { .. }) => Ok(false),
            Err(error) => Err(StoreError::Blob(error)),
        }
    }
}

/// A listing of the blob store, read batch by batch ([`Blobs::listing`]). Deleting what was
/// handed out while the listing goes on is safe: object stores page on past the last key listed,
/// and a directory walk at worst misses an entry, which the next listing finds.
pub(crate) struct Listing {
    stream: futures_util::stream::BoxStream<'static, object_store::Result<ObjectMeta>>,
    batch: usize,
}

impl Listing {
    /// The next batch, `None` at the end.
    ///
    /// # Errors
    /// [`StoreError::Blob`] when listing fails.
    pub(crate) async fn next_batch(&mut self) -> Result<Option<Vec<BlobInfo>>, StoreError> {
        let mut batch = Vec::with_capacity(self.batch);
        while batch.len() < self.batch {
            match self.stream.next().await {
                Some(meta) => batch.push(BlobInfo::from_meta(&meta.map_err(StoreError::Blob)?)),
                None => break,
            }
        }
        Ok((!batch.is_empty()).then_some(batch))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn blobs_round_trip_and_are_content_addressed() {
        let dir = tempfile::tempdir().unwrap();
        let blobs = Blobs::local(dir.path()).unwrap();
        let a = blobs.put("images", "png", b"hello".to_vec()).await.unwrap();
        let b = blobs.put("images", "png", b"hello".to_vec()).await.unwrap();
        assert_eq!(a, b);
        assert!(a.starts_with("images/2cf24dba"));
        assert_eq!(blobs.get(&a).await.unwrap(), b"hello");
        assert!(matches!(blobs.get("images/nope.png").await, Err(StoreError::NotFound { .. })));
        assert!(matches!(blobs.get("../../etc/passwd").await, Err(StoreError::NotFound { .. })));
    }

    #[tokio::test]
    async fn blobs_are_listed_and_deleted_only_when_older_than_the_cutoff() {
        let dir = tempfile::tempdir().unwrap();
        let blobs = Blobs::local(dir.path()).unwrap();
        let a = blobs.put("evidence", "txt", b"a".to_vec()).await.unwrap();
        let b = blobs.put("images", "png", b"b".to_vec()).await.unwrap();
        let mut keys: Vec<String> = blobs.list().await.unwrap().into_iter().map(|info| info.key).collect();
        keys.sort();
        assert_eq!(keys, [a.clone(), b.clone()]);
        let now = OffsetDateTime::now_utc();
        assert!(!blobs.delete_if_older(&a, now - time::Duration::hours(1)).await.unwrap(), "young blobs stay");
        assert!(blobs.delete_if_older(&a, now + time::Duration::hours(1)).await.unwrap());
        assert!(!blobs.delete_if_older(&a, now + time::Duration::hours(1)).await.unwrap(), "already gone");
        assert!(!blobs.delete_if_older("../../etc/passwd", now + time::Duration::hours(1)).await.unwrap());
        assert_eq!(blobs.count().await.unwrap(), 1);
        blobs.put("evidence", "txt", b"c".to_vec()).await.unwrap();
        let mut listing = blobs.listing(1);
        let mut batches = Vec::new();
        while let Some(batch) = listing.next_batch().await.unwrap() {
            batches.push(batch.len());
        }
        assert_eq!(batches, [1, 1]);
    }
}
