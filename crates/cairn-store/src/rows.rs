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
