-- A status list is rendered from the issuer's awards that are not active (revoked or suspended),
-- read on every request to /status/{id}: this index makes that read proportional to those
-- awards, not to all the issuer's awards. Kept in step with the other database's 0007.
CREATE INDEX awards_flagged ON awards (organisation_id, status_index) WHERE status <> 'active';
