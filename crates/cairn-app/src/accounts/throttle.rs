//! Sign-in throttling: failed sign-ins are counted per account (the e-mail address typed, known
//! or not) and per client address; once either count reaches its limit within the period, sign-ins
//! for that account or from that address are refused until the period ends, before any password
//! is hashed. Counts live in memory, per process, in a map of at most [`CAPACITY`] entries.
//!
//! An IPv6 client is counted by its /64 network, since one subscriber usually holds a whole /64.
//! When the map is full, expired entries go first, then the oldest one.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv6Addr};
use std::sync::Mutex;
use time::{Duration, OffsetDateTime};

/// Most accounts and addresses tracked at once.
pub const CAPACITY: usize = 10_000;

/// The limits: failures per account and per address within `period`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub per_account: u32,
    pub per_address: u32,
    pub period: Duration,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Key {
    Account(String),
    Address(IpAddr),
}

#[derive(Debug, Clone, Copy)]
struct Failures {
    count: u32,
    since: OffsetDateTime,
}

/// Failed sign-ins, counted per account and per client address.
#[derive(Debug)]
pub struct LoginThrottle {
    limits: Limits,
    capacity: usize,
    entries: Mutex<HashMap<Key, Failures>>,
}

/// The address sign-ins from it are counted under: IPv4 as is, IPv6 by its /64.
fn network(address: IpAddr) -> IpAddr {
    match address.to_canonical() {
        IpAddr::V6(v6) => IpAddr::V6(Ipv6Addr::from(u128::from(v6) & !u128::from(u64::MAX))),
        v4 => v4,
    }
}

fn keys(account: Option<&str>, address: Option<IpAddr>) -> impl Iterator<Item = Key> {
    account.map(|a| Key::Account(a.to_lowercase())).into_iter().chain(address.map(|a| Key::Address(network(a))))
}

impl LoginThrottle {
    pub fn new(limits: Limits) -> LoginThrottle {
        LoginThrottle::with_capacity(limits, CAPACITY)
    }

    pub fn with_capacity(limits: Limits, capacity: usize) -> LoginThrottle {
        LoginThrottle { limits, capacity: capacity.max(1), entries: Mutex::new(HashMap::new()) }
    }

    fn limit(&self, key: &Key) -> u32 {
        match key {
            Key::Account(_) => self.limits.per_account,
            Key::Address(_) => self.limits.per_address,
        }
    }

    fn entries(&self) -> std::sync::MutexGuard<'_, HashMap<Key, Failures>> {
        // A panic while the lock was held cannot leave the counts inconsistent (each update is
        // one assignment), so a poisoned lock is used as it is.
        self.entries.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Whether a sign-in for `account` from `address` may be tried at `now`.
    ///
    /// # Errors
    /// The whole seconds until it may (at least 1), when either has used up its failures.
    pub fn check(&self, account: Option<&str>, address: Option<IpAddr>, now: OffsetDateTime) -> Result<(), u64> {
        let entries = self.entries();
        let mut wait = Duration::ZERO;
        for key in keys(account, address) {
            if let Some(failures) = entries.get(&key) {
                let ends = failures.since + self.limits.period;
                if failures.count >= self.limit(&key) && ends > now {
                    wait = wait.max(ends - now);
                }
            }
        }
        if wait.is_zero() { Ok(()) } else { Err(u64::try_from(wait.whole_seconds()).unwrap_or(1).max(1)) }
    }

    /// Counts a failed sign-in against `account` and `address`.
    pub fn fail(&self, account: Option<&str>, address: Option<IpAddr>, now: OffsetDateTime) {
        let mut entries = self.entries();
        for key in keys(account, address) {
            match entries.get_mut(&key) {
                Some(failures) if failures.since + self.limits.period > now => failures.count = failures.count.saturating_add(1),
                Some(failures) => *failures = Failures { count: 1, since: now },
                None => {
                    if entries.len() >= self.capacity {
                        self.make_room(&mut entries, now);
                    }
                    entries.insert(key, Failures { count: 1, since: now });
                }
            }
        }
    }

    /// Forgets the failures of `account` after a successful sign-in (its address keeps its count).
    pub fn succeed(&self, account: &str) {
        self.entries().remove(&Key::Account(account.to_lowercase()));
    }

    /// How many accounts and addresses are tracked.
    pub fn len(&self) -> usize {
        self.entries().len()
    }

    /// Whether nothing is tracked.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn make_room(&self, entries: &mut HashMap<Key, Failures>, now: OffsetDateTime) {
        let period = self.limits.period;
        entries.retain(|_, failures| failures.since + period > now);
        if entries.len() >= self.capacity
            && let Some(oldest) = entries.iter().min_by_key(|(_, failures)| failures.since).map(|(key, _)| key.clone())
        {
            entries.remove(&oldest);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMITS: Limits = Limits { per_account: 3, per_address: 5, period: Duration::minutes(15) };

    fn at(minutes: i64) -> OffsetDateTime {
        time::macros::datetime!(2026-01-01 00:00 UTC) + Duration::minutes(minutes)
    }

    fn ip(text: &str) -> Option<IpAddr> {
        Some(text.parse().unwrap())
    }

    #[test]
    fn an_account_is_refused_after_its_failures_until_the_period_ends() {
        let throttle = LoginThrottle::new(LIMITS);
        for _ in 0..3 {
            assert_eq!(throttle.check(Some("ada@example.org"), None, at(0)), Ok(()));
            throttle.fail(Some("ada@example.org"), None, at(0));
        }
        assert_eq!(throttle.check(Some("ADA@example.org"), ip("192.0.2.1"), at(5)), Err(600));
        assert_eq!(throttle.check(Some("grace@example.org"), None, at(5)), Ok(()), "other accounts are not affected");
        assert_eq!(throttle.check(Some("ada@example.org"), None, at(15)), Ok(()));
    }

    #[test]
    fn an_address_is_refused_after_its_failures_whatever_the_account() {
        let throttle = LoginThrottle::new(LIMITS);
        for i in 0..5 {
            throttle.fail(Some(&format!("user{i}@example.org")), ip("2001:db8:1:2::7"), at(0));
        }
        assert!(throttle.check(Some("new@example.org"), ip("2001:db8:1:2:ffff::1"), at(1)).is_err(), "the same /64");
        assert_eq!(throttle.check(Some("new@example.org"), ip("2001:db8:1:3::1"), at(1)), Ok(()), "another /64");
        assert_eq!(throttle.check(Some("new@example.org"), ip("::ffff:192.0.2.1"), at(1)), Ok(()));
    }

    #[test]
    fn a_success_forgets_the_account_but_not_the_address() {
        let throttle = LoginThrottle::new(Limits { per_account: 2, per_address: 2, ..LIMITS });
        throttle.fail(Some("ada@example.org"), ip("192.0.2.1"), at(0));
        throttle.succeed("ada@example.org");
        throttle.fail(Some("ada@example.org"), ip("192.0.2.1"), at(0));
        assert_eq!(throttle.check(Some("ada@example.org"), None, at(0)), Ok(()));
        assert!(throttle.check(None, ip("192.0.2.1"), at(0)).is_err());
    }

    #[test]
    fn the_map_never_grows_past_its_capacity() {
        let throttle = LoginThrottle::with_capacity(LIMITS, 4);
        for i in 0..100 {
            throttle.fail(Some(&format!("user{i}@example.org")), None, at(i));
            assert!(throttle.len() <= 4);
        }
        // The newest entries were kept.
        throttle.fail(Some("user99@example.org"), None, at(99));
        throttle.fail(Some("user99@example.org"), None, at(99));
        assert!(throttle.check(Some("user99@example.org"), None, at(99)).is_err());
    }
}
