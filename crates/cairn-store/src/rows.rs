//! Small conversions between rows and domain values, shared by every aggregate module.

use crate::StoreError;
use sqlx::Row;
use sqlx::any::AnyRow;
use std::str::FromStr;
use time::OffsetDateTime;

/// Seconds since the Unix epoch, the stored form of every time.
pub(crate) fn secs(time: OffsetDateTime) -> i64 {
    time.unix_timestamp()
}

pub(crate) fn time_from(secs: i64) -> Result<OffsetDateTime, StoreError> {
    OffsetDateTime::from_unix_timestamp(secs).map_err(|_| StoreError::corrupt(format!("time {secs}")))
}

pub(crate) fn get_string(row: &AnyRow, column: &str) -> Result<String, StoreError> {
    Ok(row.try_get::<String, _>(column)?)
}

pub(crate) fn get_opt_string(row: &AnyRow, column: &str) -> Result<Option<String>, StoreError> {
    Ok(row.try_get::<Option<String>, _>(column)?)
}

pub(crate) fn get_i64(row: &AnyRow, column: &str) -> Result<i64, StoreError> {
    Ok(row.try_get::<i64, _>(column)?)
}

pub(crate) fn get_opt_i64(row: &AnyRow, column: &str) -> Result<Option<i64>, StoreError> {
    Ok(row.try_get::<Option<i64>, _>(column)?)
}

pub(crate) fn get_time(row: &AnyRow, column: &str) -> Result<OffsetDateTime, StoreError> {
    time_from(get_i64(row, column)?)
}

pub(crate) fn get_opt_time(row: &AnyRow, column: &str) -> Result<Option<OffsetDateTime>, StoreError> {
    get_opt_i64(row, column)?.map(time_from).transpose()
}

/// Parses an id column into its newtype.
pub(crate) fn get_id<T: FromStr>(row: &AnyRow, column: &str) -> Result<T, StoreError> {
    let raw = get_string(row, column)?;
    raw.parse().map_err(|_| StoreError::corrupt(format!("{column} \"{raw}\"")))
}

pub(crate) fn get_opt_id<T: FromStr>(row: &AnyRow, column: &str) -> Result<Option<T>, StoreError> {
    match get_opt_string(row, column)? {
        None => Ok(None),
        Some(raw) => raw.parse().map(Some).map_err(|_| StoreError::corrupt(format!("{column} \"{raw}\""))),
    }
}

pub(crate) fn get_f64(row: &AnyRow, column: &str) -> Result<f64, StoreError> {
    Ok(row.try_get::<f64, _>(column)?)
}

/// A stored count or number that must fit a `u32` (attempts, versions).
pub(crate) fn get_u32(row: &AnyRow, column: &str) -> Result<u32, StoreError> {
    let raw = get_i64(row, column)?;
    u32::try_from(raw).map_err(|_| StoreError::corrupt(format!("{column} {raw}")))
}

/// A stored non-negative number as `u64` (sizes, indexes).
pub(crate) fn get_u64(row: &AnyRow, column: &str) -> Result<u64, StoreError> {
    let raw = get_i64(row, column)?;
    u64::try_from(raw).map_err(|_| StoreError::corrupt(format!("{column} {raw}")))
}

/// A JSON column decoded into `T`.
pub(crate) fn get_json<T: serde::de::DeserializeOwned>(row: &AnyRow, column: &str) -> Result<T, StoreError> {
    serde_json::from_str(&get_string(row, column)?).map_err(|e| StoreError::corrupt(format!("{column}: {e}")))
}

/// A stored e-mail address.
pub(crate) fn get_email(row: &AnyRow, column: &str) -> Result<cairn_core::account::Email, StoreError> {
    cairn_core::account::Email::parse(&get_string(row, column)?).map_err(StoreError::corrupt)
}
