-- The job runner's escalation scan reads only waiting, unescalated submissions with a due date,
-- by due date, instead of every submission.
CREATE INDEX submissions_escalation ON submissions (due_at) WHERE status IN ('submitted', 'resubmitted', 'in_review') AND escalated_at IS NULL AND due_at IS NOT NULL;
