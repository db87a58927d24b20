//! Blobs (badge images, evidence files, baked awards) in a content-addressed object store: local
//! files by default, or an S3-compatible bucket ([`BlobLocation`]) that several instances share.
//! The S3 client is `object_store`'s, speaking HTTP through the workspace's one `reqwest` (rustls)
//! rather than a second HTTP and TLS stack, with retries bounded so that a store that is down
//! fails a request within seconds (a 503) instead of holding it.
//!
//! Nothing here knows which blobs are in use: rows in the database refer to blobs by key, and
//! the sweep (`crate::sweep`) deletes the ones no row refers to.

use crate::StoreError;
use futures_util::StreamExt;
use object_store::local::LocalFileSystem;
use object_store::path::Path as ObjectPath;
use object_store::{ObjectMeta, ObjectStore, ObjectStoreExt, PutPayload};
use sha2::{Digest, Sha256};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;
use time::OffsetDateTime;

/// Where blobs live: `cairn serve --blob-store`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BlobLocation {
    /// Files under a directory of this machine (the default: `<data>/blobs`).
    Dir(std::path::PathBuf),
    /// An S3-compatible bucket, with an optional key prefix, configured by the standard
    /// `AWS_ENDPOINT_URL`, `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_REGION` and
    /// `AWS_ALLOW_HTTP` variables.
    S3 { bucket: String, prefix: Option<String> },
}

impl BlobLocation {
    /// `s3://BUCKET[/PREFIX]`, `file:///PATH` or a plain directory path.
    ///
    /// # Errors
    /// [`StoreError::Config`] naming the accepted forms.
    pub fn parse(spec: &str) -> Result<BlobLocation, StoreError> {
        let spec = spec.trim();
        let refuse = |why: &str| StoreError::Config(format!("blob store \"{spec}\" {why}: give s3://BUCKET[/PREFIX], file:///PATH or a directory"));
        if let Some(rest) = spec.strip_prefix("s3://") {
            let (bucket, prefix) = rest.split_once('/').map_or((rest, ""), |(b, p)| (b, p));
            let valid_bucket = (3..=63).contains(&bucket.len())
                && bucket.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.')
                && bucket.bytes().next().is_some_and(|b| b.is_ascii_alphanumeric())
                && bucket.bytes().last().is_some_and(|b| b.is_ascii_alphanumeric());
            if !valid_bucket {
                return Err(refuse("does not name a bucket (3 to 63 lower-case letters, digits, '-' and '.')"));
            }
            let prefix = prefix.trim_matches('/');
            if prefix.split('/').any(|part| part == "." || part == "..") || prefix.contains("//") {
                return Err(refuse("has a prefix with empty, '.' or '..' parts"));
            }
            return Ok(BlobLocation::S3 { bucket: bucket.to_string(), prefix: (!prefix.is_empty()).then(|| prefix.to_string()) });
        }
        if let Some(path) = spec.strip_prefix("file://") {
            if !path.starts_with('/') {
                return Err(refuse("is not an absolute file:// URL"));
            }
            return Ok(BlobLocation::Dir(path.into()));
        }
        if spec.is_empty() || spec.contains("://") {
            return Err(refuse("is not a location Cairn can store blobs at"));
        }
        Ok(BlobLocation::Dir(spec.into()))
    }

    /// For logs and messages (no secret is part of a location).
    pub fn describe(&self) -> String {
        match self {
            BlobLocation::Dir(dir) => dir.display().to_string(),
            BlobLocation::S3 { bucket, prefix: None } => format!("s3://{bucket}"),
            BlobLocation::S3 { bucket, prefix: Some(prefix) } => format!("s3://{bucket}/{prefix}"),
        }
    }

    /// Whether other machines can share it.
    pub fn is_shared(&self) -> bool {
        matches!(self, BlobLocation::S3 { .. })
    }
}

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
        let store = LocalFileSystem::new_with_prefix(dir).map_err(StoreError::blob)?;
        Ok(Blobs { inner: Arc::new(store) })
    }

    /// Blobs at `location`: the directory (created if missing), or the bucket, whose settings
    /// come from the `AWS_*` environment variables. Nothing is read or written yet: see
    /// [`Blobs::check`].
    ///
    /// # Errors
    /// [`StoreError::Config`] when the directory cannot be created or the S3 settings are unusable.
    pub fn open(location: &BlobLocation) -> Result<Blobs, StoreError> {
        match location {
            BlobLocation::Dir(dir) => Blobs::local(dir),
            BlobLocation::S3 { bucket, prefix } => {
                use object_store::aws::AmazonS3Builder;
                use object_store::{BackoffConfig, RetryConfig};
                let mut builder = AmazonS3Builder::from_env().with_bucket_name(bucket).with_http_connector(S3Connector).with_retry(RetryConfig {
                    backoff: BackoffConfig { init_backoff: Duration::from_millis(100), max_backoff: Duration::from_secs(1), base: 2.0 },
                    max_retries: 2,
                    retry_timeout: Duration::from_secs(5),
                });
                // Without a region, requests are signed for us-east-1, as S3-compatible servers expect.
                if std::env::var_os("AWS_REGION").is_none() && std::env::var_os("AWS_DEFAULT_REGION").is_none() {
                    builder = builder.with_region("us-east-1");
                }
                let store = builder.build().map_err(|e| StoreError::Config(format!("the S3 blob store {} cannot be used: {e}", location.describe())))?;
                Ok(Blobs {
                    inner: match prefix {
                        Some(prefix) => Arc::new(object_store::prefix::PrefixStore::new(store, prefix.as_str())),
                        None => Arc::new(store),
                    },
                })
            }
        }
    }

    /// Checks the store answers: lists its top level (a few prefixes), so a missing bucket, wrong
    /// credentials or an unreachable server are found at start-up and by `/readyz`.
    ///
    /// # Errors
    /// [`StoreError::Blob`] with the store's reason.
    pub async fn check(&self) -> Result<(), StoreError> {
        self.inner.list_with_delimiter(None).await.map_err(StoreError::blob)?;
        Ok(())
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
        let key = format!("{prefix}/{}.{extension}", content_digest(&bytes));
        self.inner.put(&ObjectPath::from(key.as_str()), PutPayload::from(bytes)).await.map_err(StoreError::blob)?;
        Ok(key)
    }

    /// Stores `bytes` under `key` as [`Blobs::put`] named it (`<prefix>/<sha256>.<ext>`), checking
    /// the name's digest is the content's: how a restore puts back what a backup copied.
    ///
    /// # Errors
    /// [`StoreError::Corrupt`] when the key is not such a name or the digest differs;
    /// [`StoreError::Blob`] when the write fails.
    pub async fn put_key(&self, key: &str, bytes: Vec<u8>) -> Result<(), StoreError> {
        let digest = key.rsplit('/').next().and_then(|name| name.split('.').next()).unwrap_or_default();
        if digest != content_digest(&bytes) || key.split('/').count() != 2 {
            return Err(StoreError::corrupt(format!("blob \"{key}\" does not hold the content its name's digest says")));
        }
        let path = ObjectPath::parse(key).map_err(|_| StoreError::corrupt(format!("blob \"{key}\" is not a blob name")))?;
        self.inner.put(&path, PutPayload::from(bytes)).await.map_err(StoreError::blob)?;
        Ok(())
    }

    /// The bytes stored under `key`.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] for an unknown key, [`StoreError::Blob`] on other failures.
    pub async fn get(&self, key: &str) -> Result<Vec<u8>, StoreError> {
        let path = ObjectPath::parse(key).map_err(|_| StoreError::not_found("blob", key))?;
        match self.inner.get(&path).await {
            Ok(result) => Ok(result.bytes().await.map_err(StoreError::blob)?.to_vec()),
            Err(object_store::Error::NotFound { .. }) => Err(StoreError::not_found("blob", key)),
            Err(error) => Err(StoreError::blob(error)),
        }
    }

    /// Every stored blob, in no particular order, in batches of at most `batch` so that a large
    /// store is never listed into memory at once.
    pub(crate) fn listing(&self, batch: usize) -> Listing {
        Listing { stream: self.inner.list(None), batch: batch.max(1), done: false }
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
            Err(error) => return Err(StoreError::blob(error)),
        };
        if BlobInfo::from_meta(&meta).last_modified >= cutoff {
            return Ok(false);
        }
        match self.inner.delete(&path).await {
            Ok(()) => Ok(true),
            Err(object_store::Error::NotFound { .. }) => Ok(false),
            Err(error) => Err(StoreError::blob(error)),
        }
    }
}

/// The SHA-256 of `bytes` in lower-case hex: the name a blob is stored under.
fn content_digest(bytes: &[u8]) -> String {
    Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

/// `object_store`'s S3 client over the workspace's `reqwest` (rustls), so the binary carries one
/// HTTP client and one TLS stack. It honours `AWS_ALLOW_HTTP` (plain http only when set) and
/// bounds every request in time (3 seconds to connect, 15 in all).
#[derive(Debug)]
struct S3Connector;

impl object_store::client::HttpConnector for S3Connector {
    fn connect(&self, options: &object_store::ClientOptions) -> object_store::Result<object_store::client::HttpClient> {
        let allow_http = options
            .get_config_value(&object_store::ClientConfigKey::AllowHttp)
            .is_some_and(|value| matches!(value.trim().to_ascii_lowercase().as_str(), "true" | "1" | "yes" | "on"));
        let client = reqwest::Client::builder()
            .https_only(!allow_http)
            .connect_timeout(Duration::from_secs(3))
            // Well inside the server's 30-second request timeout, so a store that accepts
            // connections but never answers is a clear 503 from the store, not a timed-out request.
            .timeout(Duration::from_secs(15))
            .pool_idle_timeout(Duration::from_secs(30))
            .build()
            .map_err(|e| object_store::Error::Generic { store: "S3", source: Box::new(e) })?;
        Ok(object_store::client::HttpClient::new(S3Http(client)))
    }
}

#[derive(Debug)]
struct S3Http(reqwest::Client);

type HttpFuture<'a> = Pin<Box<dyn Future<Output = Result<object_store::client::HttpResponse, object_store::client::HttpError>> + Send + 'a>>;

impl object_store::client::HttpService for S3Http {
    fn call<'life0, 'async_trait>(&'life0 self, request: object_store::client::HttpRequest) -> HttpFuture<'async_trait>
    where
        'life0: 'async_trait,
        Self: 'async_trait,
    {
        Box::pin(async move {
            use http_body_util::BodyExt;
            use object_store::client::{HttpError, HttpErrorKind, HttpResponseBody};
            let (parts, body) = request.into_parts();
            let url = reqwest::Url::parse(&parts.uri.to_string()).map_err(|e| HttpError::new(HttpErrorKind::Unknown, e))?;
            let mut outgoing = reqwest::Request::new(parts.method, url);
            *outgoing.headers_mut() = parts.headers;
            *outgoing.body_mut() = Some(reqwest::Body::wrap(body));
            let response = self.0.execute(outgoing).await.map_err(|e| {
                let kind = if e.is_timeout() {
                    HttpErrorKind::Timeout
                } else if e.is_connect() {
                    HttpErrorKind::Connect
                } else if e.is_body() || e.is_request() {
                    HttpErrorKind::Request
                } else {
                    HttpErrorKind::Unknown
                };
                HttpError::new(kind, e)
            })?;
            let response: http::Response<reqwest::Body> = response.into();
            let (parts, body) = response.into_parts();
            let body = HttpResponseBody::new(body.map_err(|e| HttpError::new(HttpErrorKind::Request, e)));
            Ok(object_store::client::HttpResponse::from_parts(parts, body))
        })
    }
}

/// A listing of the blob store, read batch by batch ([`Blobs::listing`]). Deleting what was
/// handed out while the listing goes on is safe: object stores page on past the last key listed,
/// and a directory walk at worst misses an entry, which the next listing finds.
pub(crate) struct Listing {
    stream: futures_util::stream::BoxStream<'static, object_store::Result<ObjectMeta>>,
    batch: usize,
    /// The stream ended: it must not be polled again (S3 listings panic if they are).
    done: bool,
}

impl Listing {
    /// The next batch, `None` at the end.
    ///
    /// # Errors
    /// [`StoreError::Blob`] when listing fails.
    pub(crate) async fn next_batch(&mut self) -> Result<Option<Vec<BlobInfo>>, StoreError> {
        let mut batch = Vec::with_capacity(self.batch);
        while batch.len() < self.batch && !self.done {
            match self.stream.next().await {
                Some(meta) => batch.push(BlobInfo::from_meta(&meta.map_err(StoreError::blob)?)),
                None => self.done = true,
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
        assert!(listing.next_batch().await.unwrap().is_none(), "an ended listing stays ended and is not polled again");
    }
}
