-- Several instances share the mail outbox: each claims the messages it sends for a while, so
-- that a message goes out once; a claim whose instance died runs out and the message is sent
-- by another.
ALTER TABLE outbox ADD COLUMN claimed_until BIGINT;
ALTER TABLE outbox ADD COLUMN claimed_by TEXT;

-- Which instance holds a claimed effect or message, so that an instance restarting after a crash releases
-- its own claims at once and leaves those of instances still running to their lease.
ALTER TABLE effects ADD COLUMN claimed_by TEXT;
