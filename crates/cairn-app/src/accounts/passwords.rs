//! Password hashing, bounded: argon2id on the blocking thread pool, at most
//! `Config::hashing_concurrency` hashes at once, with a short queue in front.
//!
//! # Parameters
//!
//! Every password is hashed with **argon2id** (version 0x13), **m = 19,456 KiB** (19 MiB of
//! memory), **t = 2** passes, **p = 1** lane, a 16-byte random salt and a 32-byte output, stored
//! in the PHC string form (`$argon2id$v=19$m=19456,t=2,p=1$…`). These are OWASP's recommended
//! minimum for argon2id and the `argon2` crate's defaults; a check takes the parameters stored in
//! the hash, so raising them later affects new passwords only. A sign-in with an unknown e-mail
//! address is checked against [`DUMMY_HASH`] (the same parameters), so it costs what a wrong
//! password costs and does not reveal that the account is missing.
//!
//! # Bounds
//!
//! Each hash in progress holds 19 MiB, so unbounded concurrent sign-ins exhaust memory (200
//! clients once drove a server to 5.6 GB). [`PasswordHashing`] lets `concurrency` hashes run at
//! once; the permit travels with the work onto the blocking thread, so a client that hangs up
//! does not free its place while its hash still runs. Up to [`QUEUE_PER_PERMIT`] ×
//! `concurrency` requests wait, each for at most [`QUEUE_WAIT`]; any more, or a longer wait, is
//! [`AppError::Busy`] (503 with `Retry-After`).
//!
//! Each hash works in one of at most `concurrency` reused 19 MiB buffers ([`Scratch`]) rather
//! than a fresh allocation: freed on whichever blocking thread ran it, fresh buffers were kept by
//! the allocator's per-thread arenas, and 200 clients still left the process at 450 MB. Memory
//! for hashing thus stays at `concurrency` × 19 MiB.

use argon2::password_hash::{Output, ParamsString, PasswordHash, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::Semaphore;

use crate::AppError;

/// Memory per hash, in KiB (19 MiB).
pub const MEMORY_KIB: u32 = 19_456;
/// Passes over the memory.
pub const ITERATIONS: u32 = 2;
/// Lanes.
pub const PARALLELISM: u32 = 1;
/// How long a request waits for a hashing permit before it is told the server is busy.
pub const QUEUE_WAIT: Duration = Duration::from_secs(2);
/// How many requests may wait per permit; beyond that they are told at once.
pub const QUEUE_PER_PERMIT: usize = 32;
/// The `Retry-After` seconds of a busy answer.
pub const BUSY_RETRY_AFTER_SECS: u64 = 2;

/// A valid argon2id hash (with [`MEMORY_KIB`], [`ITERATIONS`], [`PARALLELISM`]) of a random
/// password, checked against when the e-mail address is unknown.
pub const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0$Q8+hGdkYq/8gLbq1yC3K2ZtjQkZ1m7QYyqJ2dN3t0s8";

/// The largest memory a stored hash may ask for (256 MiB): more is not a hash Cairn wrote.
pub const MAX_MEMORY_KIB: u32 = 262_144;

fn params() -> Params {
    // The constants are within argon2's limits, so the fallback (the same values) is never used.
    Params::new(MEMORY_KIB, ITERATIONS, PARALLELISM, None).unwrap_or_default()
}

/// Reused argon2 working memory: one buffer per hash running at once, taken for a hash and put
/// back after it, grown only if a stored hash asks for more than [`MEMORY_KIB`].
#[derive(Debug, Default)]
pub struct Scratch {
    free: Mutex<Vec<Vec<Block>>>,
}

impl Scratch {
    /// Runs argon2 with `params` into `out`, in a reused buffer.
    fn hash_into(&self, argon2: &Argon2<'_>, params: &Params, password: &[u8], salt: &[u8], out: &mut [u8]) -> argon2::Result<()> {
        let taken = self.free.lock().map(|mut free| free.pop()).unwrap_or_default();
        let mut blocks = taken.unwrap_or_default();
        if blocks.len() < params.block_count() {
            blocks.resize(params.block_count(), Block::default());
        }
        let result = argon2.hash_password_into_with_memory(password, salt, out, blocks.as_mut_slice());
        if let Ok(mut free) = self.free.lock() {
            free.push(blocks);
        }
        result
    }

    /// How many buffers are kept (at most the number of hashes that ran at once).
    pub fn buffers(&self) -> usize {
        self.free.lock().map(|free| free.len()).unwrap_or(0)
    }

    /// A new PHC string (argon2id, Cairn's parameters, a random salt) for `password`.
    fn hash(&self, password: &[u8]) -> Result<String, String> {
        let params = params();
        let argon2 = Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone());
        let salt = SaltString::generate(&mut rand::rngs::OsRng);
        let mut salt_bytes = [0u8; 64];
        let salt_raw = salt.decode_b64(&mut salt_bytes).map_err(|error| error.to_string())?;
        let output_len = params.output_len().unwrap_or(Params::DEFAULT_OUTPUT_LEN);
        let output = Output::init_with(output_len, |out| self.hash_into(&argon2, &params, password, salt_raw, out).map_err(Into::into))
            .map_err(|error| error.to_string())?;
        let phc = PasswordHash {
            algorithm: Algorithm::Argon2id.ident(),
            version: Some(Version::V0x13.into()),
            params: ParamsString::try_from(&params).map_err(|error| error.to_string())?,
            salt: Some(salt.as_salt()),
            hash: Some(output),
        };
        Ok(phc.to_string())
    }

    /// Whether `password` gives the output stored in the PHC string `hash` (compared in constant
    /// time). A hash that does not parse, is not argon2 or asks for more than
    /// [`MAX_MEMORY_KIB`] never matches.
    fn verify(&self, password: &[u8], hash: &str) -> bool {
        let Ok(parsed) = PasswordHash::new(hash) else { return false };
        let (Ok(algorithm), Some(salt), Some(expected)) = (Algorithm::try_from(parsed.algorithm), parsed.salt, parsed.hash) else { return false };
        let version = match parsed.version.map(Version::try_from).transpose() {
            Ok(version) => version.unwrap_or_default(),
            Err(_) => return false,
        };
        let Ok(params) = Params::try_from(&parsed) else { return false };
        if params.m_cost() > MAX_MEMORY_KIB {
            return false;
        }
        let argon2 = Argon2::new(algorithm, version, params.clone());
        let mut salt_bytes = [0u8; 64];
        let Ok(salt_raw) = salt.decode_b64(&mut salt_bytes) else { return false };
        let computed = Output::init_with(expected.len(), |out| self.hash_into(&argon2, &params, password, salt_raw, out).map_err(Into::into));
        // `Output`'s equality is constant-time.
        computed.is_ok_and(|computed| computed == expected)
    }
}

/// The hashing gate: a semaphore of `concurrency` permits and a bounded, briefly waiting queue.
#[derive(Debug)]
pub struct PasswordHashing {
    permits: Arc<Semaphore>,
    concurrency: usize,
    waiting: AtomicUsize,
    max_waiting: usize,
    queue_wait: Duration,
    scratch: Arc<Scratch>,
}

/// Counts a waiting request for as long as it waits, even if its future is dropped.
struct Waiting<'a>(&'a AtomicUsize);

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

impl PasswordHashing {
    /// `concurrency` hashes at once (at least one), with the standard queue.
    pub fn new(concurrency: usize) -> PasswordHashing {
        let concurrency = concurrency.max(1);
        PasswordHashing::with_queue(concurrency, concurrency * QUEUE_PER_PERMIT, QUEUE_WAIT)
    }

    /// `concurrency` hashes at once, at most `max_waiting` requests waiting, each for at most
    /// `queue_wait`. A concurrency of 0 admits nobody: every request is busy (a test of
    /// back-pressure uses that).
    pub fn with_queue(concurrency: usize, max_waiting: usize, queue_wait: Duration) -> PasswordHashing {
        PasswordHashing {
            permits: Arc::new(Semaphore::new(concurrency)),
            concurrency,
            waiting: AtomicUsize::new(0),
            max_waiting,
            queue_wait,
            scratch: Arc::new(Scratch::default()),
        }
    }

    /// How many hashes run now.
    pub fn running(&self) -> usize {
        self.concurrency - self.permits.available_permits()
    }

    /// How many requests wait for a permit now.
    pub fn waiting(&self) -> usize {
        self.waiting.load(Ordering::SeqCst)
    }

    /// The reused working memory.
    pub fn scratch(&self) -> &Scratch {
        &self.scratch
    }

    /// Runs `work` on the blocking pool once a permit is free; the permit is released when the
    /// work ends, not when the caller stops waiting for it.
    ///
    /// # Errors
    /// [`AppError::Busy`] when the queue is full or the wait exceeds the bound; `Internal` when
    /// the work panicked.
    pub(crate) async fn run<T: Send + 'static>(&self, work: impl FnOnce() -> T + Send + 'static) -> Result<T, AppError> {
        let busy = || AppError::Busy { retry_after: BUSY_RETRY_AFTER_SECS };
        let permit = match self.permits.clone().try_acquire_owned() {
            Ok(permit) => permit,
            Err(_) => {
                if self.waiting.fetch_add(1, Ordering::SeqCst) >= self.max_waiting {
                    self.waiting.fetch_sub(1, Ordering::SeqCst);
                    tracing::warn!(running = self.running(), "password hashing queue full");
                    return Err(busy());
                }
                let _waiting = Waiting(&self.waiting);
                match tokio::time::timeout(self.queue_wait, self.permits.clone().acquire_owned()).await {
                    Ok(Ok(permit)) => permit,
                    Ok(Err(closed)) => return Err(AppError::internal(&closed)),
                    Err(_) => {
                        tracing::warn!(running = self.running(), "password hashing queue wait exceeded");
                        return Err(busy());
                    }
                }
            }
        };
        tokio::task::spawn_blocking(move || {
            let _permit = permit;
            work()
        })
        .await
        .map_err(|error| AppError::internal(&error))
    }

    /// Hashes a new password.
    ///
    /// # Errors
    /// As [`PasswordHashing::run`]; `Internal` if argon2 refuses (it does not for these inputs).
    pub async fn hash(&self, password: &str) -> Result<String, AppError> {
        let password = password.to_string();
        let scratch = Arc::clone(&self.scratch);
        let hashed = self.run(move || scratch.hash(password.as_bytes())).await?;
        hashed.map_err(|error| AppError::Internal(format!("password hashing failed: {error}")))
    }

    /// Whether `password` matches `hash`; without a hash (an unknown account) it is checked
    /// against [`DUMMY_HASH`] and never matches. A stored hash that does not parse never matches.
    ///
    /// # Errors
    /// As [`PasswordHashing::run`].
    pub async fn verify(&self, password: &str, hash: Option<&str>) -> Result<bool, AppError> {
        let password = password.to_string();
        let known = hash.is_some();
        let hash = hash.unwrap_or(DUMMY_HASH).to_string();
        let scratch = Arc::clone(&self.scratch);
        let matches = self.run(move || scratch.verify(password.as_bytes(), &hash)).await?;
        Ok(matches && known)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Condvar, Mutex};

    /// The tests that hash or hold the blocking pool run one at a time: run side by side in one
    /// process, their blocking work starved each other's and a test could wait forever.
    static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

    #[test]
    fn the_dummy_hash_parses_and_has_the_same_parameters() {
        let parsed = PasswordHash::new(DUMMY_HASH).unwrap();
        assert_eq!(parsed.algorithm.as_str(), "argon2id");
        let params = Params::try_from(&parsed).unwrap();
        assert_eq!((params.m_cost(), params.t_cost(), params.p_cost()), (MEMORY_KIB, ITERATIONS, PARALLELISM));
    }

    #[tokio::test]
    async fn hashes_verify_and_record_their_parameters() {
        let _serial = ONE_AT_A_TIME.lock().await;
        let hashing = PasswordHashing::new(1);
        let hash = hashing.hash("correct horse battery").await.unwrap();
        assert!(hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{hash}");
        assert!(hashing.verify("correct horse battery", Some(&hash)).await.unwrap());
        assert!(!hashing.verify("wrong horse battery", Some(&hash)).await.unwrap());
        assert!(!hashing.verify("anything", None).await.unwrap(), "an unknown account never matches");
        assert!(!hashing.verify("anything", Some("not a hash")).await.unwrap());
        assert_eq!(hashing.scratch().buffers(), 1, "one hash at a time reuses one buffer");
    }

    #[test]
    fn hashes_from_the_argon2_crate_verify_and_ours_verify_there() {
        use argon2::password_hash::{PasswordHasher, PasswordVerifier};
        let scratch = Scratch::default();
        let salt = SaltString::generate(&mut rand::rngs::OsRng);
        let theirs = Argon2::new(Algorithm::Argon2id, Version::V0x13, params()).hash_password(b"pass phrase", &salt).unwrap().to_string();
        assert!(scratch.verify(b"pass phrase", &theirs));
        assert!(!scratch.verify(b"pass phrasE", &theirs));
        let ours = scratch.hash(b"pass phrase").unwrap();
        assert!(Argon2::default().verify_password(b"pass phrase", &PasswordHash::new(&ours).unwrap()).is_ok());
        // Other parameters (a cheaper hash written elsewhere) verify too, in the same buffer.
        let cheap = Argon2::new(Algorithm::Argon2i, Version::V0x10, Params::new(64, 1, 1, None).unwrap()).hash_password(b"x", &salt).unwrap().to_string();
        assert!(scratch.verify(b"x", &cheap));
        assert_eq!(scratch.buffers(), 1);
        // A stored hash that asks for too much memory is refused before any is taken.
        let greedy = format!("$argon2id$v=19$m={},t=1,p=1$c2FsdHNhbHRzYWx0$Q8+hGdkYq/8gLbq1yC3K2ZtjQkZ1m7QYyqJ2dN3t0s8", MAX_MEMORY_KIB + 1);
        assert!(!scratch.verify(b"x", &greedy));
        assert!(!scratch.verify(b"x", "$pbkdf2$i=1$c2FsdA$aGFzaA"));
    }

    /// Work that holds its place until the test lets it go, counting how many run at once.
    #[derive(Default)]
    struct Held {
        running: AtomicUsize,
        most: AtomicUsize,
        released: Mutex<usize>,
        release: Condvar,
    }

    impl Held {
        fn work(self: &Arc<Self>) -> impl FnOnce() + Send + 'static {
            let held = Arc::clone(self);
            move || {
                let now = held.running.fetch_add(1, Ordering::SeqCst) + 1;
                held.most.fetch_max(now, Ordering::SeqCst);
                let mut released = held.released.lock().unwrap();
                while *released == 0 {
                    released = held.release.wait(released).unwrap();
                }
                *released -= 1;
                held.running.fetch_sub(1, Ordering::SeqCst);
            }
        }

        fn release(&self, n: usize) {
            *self.released.lock().unwrap() += n;
            self.release.notify_all();
        }
    }

    /// Lets every held piece of work go when the test ends, even by a failed assertion: the
    /// runtime waits for its blocking threads when it shuts down, so work still held would
    /// hang the test instead of failing it.
    struct ReleaseOnDrop(Arc<Held>);

    impl Drop for ReleaseOnDrop {
        fn drop(&mut self) {
            self.0.release(1_000);
        }
    }

    /// Waits (without asserting any duration) until `ready` holds; gives up after a minute.
    async fn until(mut ready: impl FnMut() -> bool) {
        for _ in 0..60_000 {
            if ready() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        panic!("the state was never reached");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn no_more_hashes_run_at_once_than_there_are_permits() {
        let _serial = ONE_AT_A_TIME.lock().await;
        let hashing = Arc::new(PasswordHashing::with_queue(2, 10, Duration::from_secs(3600)));
        let held = Arc::new(Held::default());
        let _release = ReleaseOnDrop(Arc::clone(&held));
        let tasks: Vec<_> = (0..5)
            .map(|_| {
                let hashing = Arc::clone(&hashing);
                let work = held.work();
                tokio::spawn(async move { hashing.run(work).await })
            })
            .collect();
        // A permit is taken before its work starts on the blocking pool: wait for both.
        until(|| hashing.running() == 2 && hashing.waiting() == 3 && held.running.load(Ordering::SeqCst) == 2).await;
        assert_eq!(held.running.load(Ordering::SeqCst), 2, "two run, three wait");
        held.release(5);
        for task in tasks {
            assert!(task.await.unwrap().is_ok());
        }
        assert_eq!(held.most.load(Ordering::SeqCst), 2);
        assert_eq!((hashing.running(), hashing.waiting()), (0, 0));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_full_queue_or_a_long_wait_is_busy() {
        let _serial = ONE_AT_A_TIME.lock().await;
        let held = Arc::new(Held::default());
        let _release = ReleaseOnDrop(Arc::clone(&held));
        // One permit and no room to wait: a second request is told at once.
        let hashing = Arc::new(PasswordHashing::with_queue(1, 0, Duration::from_secs(3600)));
        let first = tokio::spawn({
            let hashing = Arc::clone(&hashing);
            let work = held.work();
            async move { hashing.run(work).await }
        });
        until(|| hashing.running() == 1).await;
        assert!(matches!(hashing.run(|| ()).await, Err(AppError::Busy { retry_after: BUSY_RETRY_AFTER_SECS })));
        assert!(matches!(hashing.verify("x", None).await, Err(AppError::Busy { .. })));
        assert_eq!(hashing.waiting(), 0);
        // Room to wait, but no time: the wait bound is exceeded.
        let impatient = PasswordHashing { permits: Arc::clone(&hashing.permits), ..PasswordHashing::with_queue(1, 5, Duration::ZERO) };
        assert!(matches!(impatient.run(|| ()).await, Err(AppError::Busy { .. })));
        assert_eq!(impatient.waiting(), 0, "a request that gave up is no longer counted");
        held.release(1);
        assert!(first.await.unwrap().is_ok());
        assert!(hashing.run(|| ()).await.is_ok(), "the permit came back");
    }
}
