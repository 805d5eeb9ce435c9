-- CreateTable
CREATE TABLE "job_execution_counts" (
    "job_id" UUID NOT NULL,
    "status" "execution_status" NOT NULL,
    "n" INTEGER NOT NULL DEFAULT 0,

    CONSTRAINT "job_execution_counts_pkey" PRIMARY KEY ("job_id","status")
);

-- AddForeignKey
ALTER TABLE "job_execution_counts" ADD CONSTRAINT "job_execution_counts_job_id_fkey" FOREIGN KEY ("job_id") REFERENCES "jobs"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- raw-sql:begin job_execution_counts_maintained
-- Statement-level triggers with transition tables: one upsert per statement, however many
-- executions it touched (a job start inserts 100,000 in one statement). Rows are upserted in
-- (job_id, status) order so two statements never lock a job's counters in opposite orders.
CREATE FUNCTION "job_execution_counts_apply"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    INSERT INTO job_execution_counts (job_id, status, n)
    SELECT job_id, status, count(*)::int FROM new_rows GROUP BY job_id, status ORDER BY job_id, status
    ON CONFLICT (job_id, status) DO UPDATE SET n = job_execution_counts.n + EXCLUDED.n;
  ELSIF TG_OP = 'UPDATE' THEN
    INSERT INTO job_execution_counts (job_id, status, n)
    SELECT job_id, status, sum(d)::int FROM (
      SELECT job_id, status, -1 AS d FROM old_rows UNION ALL SELECT job_id, status, 1 AS d FROM new_rows
    ) x GROUP BY job_id, status HAVING sum(d) <> 0 ORDER BY job_id, status
    ON CONFLICT (job_id, status) DO UPDATE SET n = job_execution_counts.n + EXCLUDED.n;
  ELSE
    -- A job's own deletion cascades to its counters: only decrement rows that still exist.
    UPDATE job_execution_counts c SET n = c.n - o.n
      FROM (SELECT job_id, status, count(*)::int AS n FROM old_rows GROUP BY job_id, status) o
     WHERE c.job_id = o.job_id AND c.status = o.status;
  END IF;
  RETURN NULL;
END $$;
CREATE TRIGGER "job_executions_count_insert" AFTER INSERT ON "job_executions"
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION "job_execution_counts_apply"();
CREATE TRIGGER "job_executions_count_update" AFTER UPDATE ON "job_executions"
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION "job_execution_counts_apply"();
CREATE TRIGGER "job_executions_count_delete" AFTER DELETE ON "job_executions"
  REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION "job_execution_counts_apply"();
-- raw-sql:end

-- Counters for the jobs that exist already.
INSERT INTO "job_execution_counts" ("job_id", "status", "n")
SELECT "job_id", "status", count(*)::int FROM "job_executions" GROUP BY "job_id", "status";
