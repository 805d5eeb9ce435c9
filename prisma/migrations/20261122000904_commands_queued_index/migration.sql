-- The agent long-poll's hand-out looks up QUEUED commands of the dongles an agent reports.
-- QUEUED rows are a tiny, fast-changing fraction of `commands`; a partial index keeps that
-- lookup (and a poll with nothing pending) independent of how much history the table holds.
-- Prisma cannot express partial indexes, hence a raw-SQL block (listed in doc/database.md).

-- raw-sql:begin commands_queued_by_dongle
CREATE INDEX "commands_queued_by_dongle" ON "commands" ("dongle_id", "created_at") WHERE "status" = 'QUEUED';
-- raw-sql:end
