-- DropIndex
DROP INDEX "audit_logs_actor_id_created_at_idx";

-- DropIndex
DROP INDEX "audit_logs_action_created_at_idx";

-- DropIndex
DROP INDEX "audit_logs_target_type_target_id_created_at_idx";

-- CreateIndex
CREATE INDEX "audit_logs_actor_id_created_at_id_idx" ON "audit_logs"("actor_id", "created_at" DESC, "id" DESC);

-- CreateIndex
CREATE INDEX "audit_logs_actor_id_action_created_at_id_idx" ON "audit_logs"("actor_id", "action", "created_at" DESC, "id" DESC);

-- CreateIndex
CREATE INDEX "audit_logs_action_created_at_id_idx" ON "audit_logs"("action", "created_at" DESC, "id" DESC);

-- CreateIndex
CREATE INDEX "audit_logs_target_type_created_at_id_idx" ON "audit_logs"("target_type", "created_at" DESC, "id" DESC);

-- CreateIndex
CREATE INDEX "audit_logs_target_id_created_at_id_idx" ON "audit_logs"("target_id", "created_at" DESC, "id" DESC);
