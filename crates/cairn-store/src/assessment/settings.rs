//! An issuer's assessment settings: service window, nearly-due warning, attempt limit, pass
//! confirmation, holidays, each learner's evidence storage, how learners pay a fee, and whether a
//! submit waits for collaborators' reflections, whether its outcome figures are published, and the
//! share of judgements scored twice.

use crate::rows::{get_i64, get_json, get_opt_i64, get_opt_string, get_string, get_u32, secs};
use crate::{Store, StoreError};
use cairn_core::ids::OrganisationId;
use cairn_core::submission::{IssuerSettings, ReflectionRule};
use time::OffsetDateTime;

impl Store {
    /// An issuer's assessment settings ([`IssuerSettings::default`] until they are saved).
    ///
    /// # Errors
    /// [`StoreError::Backend`] on a database failure.
    pub async fn issuer_settings(&self, organisation: OrganisationId) -> Result<IssuerSettings, StoreError> {
        let row = sqlx::query(
            "SELECT service_days, nearly_due_days, attempt_limit, confirm_passes, holidays_json, evidence_quota_mb, payment_instructions, payment_url, \
             collaborator_reflections, publish_outcomes, sampling_percent FROM issuer_settings \
             WHERE organisation_id = $1",
        )
        .bind(organisation.to_string())
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else { return Ok(IssuerSettings::default()) };
        let holidays: Vec<String> = get_json(&row, "holidays_json")?;
        let rule = get_string(&row, "collaborator_reflections")?;
        Ok(IssuerSettings {
            service_days: get_u32(&row, "service_days")?,
            nearly_due_days: get_u32(&row, "nearly_due_days")?,
            attempt_limit: get_opt_i64(&row, "attempt_limit")?
                .map(|n| u32::try_from(n).map_err(|_| StoreError::corrupt(format!("attempt limit {n}"))))
                .transpose()?,
            confirm_passes: get_i64(&row, "confirm_passes")? != 0,
            holidays: cairn_core::calendar::parse_holidays(&holidays.join(",")).map_err(StoreError::corrupt)?,
            evidence_quota_mb: get_u32(&row, "evidence_quota_mb")?,
            payment_instructions: get_string(&row, "payment_instructions")?,
            payment_url: get_opt_string(&row, "payment_url")?,
            collaborator_reflections: ReflectionRule::parse(&rule).ok_or_else(|| StoreError::corrupt(format!("collaborator reflections \"{rule}\"")))?,
            publish_outcomes: get_i64(&row, "publish_outcomes")? != 0,
            sampling_percent: get_u32(&row, "sampling_percent")?,
        })
    }

    /// Saves an issuer's assessment settings.
    ///
    /// # Errors
    /// [`StoreError::Backend`] on a database failure (an unknown organisation included).
    pub async fn set_issuer_settings(&self, organisation: OrganisationId, settings: &IssuerSettings, now: OffsetDateTime) -> Result<(), StoreError> {
        let holidays: Vec<String> = settings.holidays.iter().map(|d| cairn_core::calendar::format_date(*d)).collect();
        sqlx::query(
            "INSERT INTO issuer_settings (organisation_id, service_days, nearly_due_days, attempt_limit, confirm_passes, holidays_json, \
             evidence_quota_mb, updated_at, payment_instructions, payment_url, collaborator_reflections, publish_outcomes, sampling_percent) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) \
             ON CONFLICT (organisation_id) DO UPDATE SET \
             service_days = excluded.service_days, nearly_due_days = excluded.nearly_due_days, attempt_limit = excluded.attempt_limit, \
             confirm_passes = excluded.confirm_passes, holidays_json = excluded.holidays_json, evidence_quota_mb = excluded.evidence_quota_mb, \
             updated_at = excluded.updated_at, payment_instructions = excluded.payment_instructions, payment_url = excluded.payment_url, \
             collaborator_reflections = excluded.collaborator_reflections, publish_outcomes = excluded.publish_outcomes, sampling_percent = excluded.sampling_percent",
        )
        .bind(organisation.to_string())
        .bind(i64::from(settings.service_days))
        .bind(i64::from(settings.nearly_due_days))
        .bind(settings.attempt_limit.map(i64::from))
        .bind(i64::from(settings.confirm_passes))
        .bind(serde_json::to_string(&holidays).unwrap_or_else(|_| "[]".into()))
        .bind(i64::from(settings.evidence_quota_mb))
        .bind(secs(now))
        .bind(&settings.payment_instructions)
        .bind(settings.payment_url.as_deref())
        .bind(settings.collaborator_reflections.as_str())
        .bind(i64::from(settings.publish_outcomes))
        .bind(i64::from(settings.sampling_percent))
        .execute(&self.pool)
        .await?;
        Ok(())
    }
}
