//! Blobs (badge images, later evidence files) in a content-addressed object store: local files by
//! default, any `object_store` backend behind the same calls.

use crate::StoreError;
use object_store::local::LocalFileSystem;
use object_store::path::Path as ObjectPath;
use object_store::{ObjectStore, ObjectStoreExt, PutPayload};
use sha2::{Digest, Sha256};
use std::sync::Arc;

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
}
