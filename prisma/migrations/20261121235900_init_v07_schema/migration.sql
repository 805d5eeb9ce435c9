-- CreateSchema
CREATE SCHEMA IF NOT EXISTS "public";

-- CreateEnum
CREATE TYPE "user_role" AS ENUM ('user', 'admin');

-- CreateEnum
CREATE TYPE "user_status" AS ENUM ('active', 'suspended');

-- CreateEnum
CREATE TYPE "email_status" AS ENUM ('PENDING', 'SENT', 'FAILED');

-- CreateEnum
CREATE TYPE "ownership_state" AS ENUM ('UNCLAIMED', 'CLAIM_PENDING', 'CLAIMED_ACTIVE', 'RELEASE_PENDING');

-- CreateEnum
CREATE TYPE "group_mode" AS ENUM ('ACTIVE', 'PAUSED');

-- CreateEnum
CREATE TYPE "can_mode" AS ENUM ('NORMAL', 'LISTEN_ONLY', 'LOOPBACK');

-- CreateEnum
CREATE TYPE "command_type" AS ENUM ('PING', 'GET_STATUS', 'REBOOT', 'SEND_FRAME', 'APPLY_CAN_CONFIG', 'START_CAPTURE', 'STOP_CAPTURE');

-- CreateEnum
CREATE TYPE "command_status" AS ENUM ('QUEUED', 'DELIVERED', 'SUCCEEDED', 'FAILED', 'EXPIRED', 'TIMED_OUT', 'CANCELLED');

-- CreateEnum
CREATE TYPE "actor_type" AS ENUM ('user', 'agent', 'system');

-- CreateTable
CREATE TABLE "users" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "email" TEXT NOT NULL,
    "password_hash" TEXT NOT NULL,
    "role" "user_role" NOT NULL DEFAULT 'user',
    "status" "user_status" NOT NULL DEFAULT 'active',
    "email_verified_at" TIMESTAMPTZ(6),
    "last_login_at" TIMESTAMPTZ(6),
    "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "users_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "sessions" (
    "sid" VARCHAR NOT NULL,
    "sess" JSON NOT NULL,
    "expire" TIMESTAMPTZ(6) NOT NULL,
    "public_id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "user_id" UUID NOT NULL,
    "ip" TEXT,
    "user_agent" TEXT,
    "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "sessions_pkey" PRIMARY KEY ("sid")
);

-- CreateTable
CREATE TABLE "email_verification_tokens" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "user_id" UUID NOT NULL,
    "token_hash" TEXT NOT NULL,
    "expires_at" TIMESTAMPTZ(6) NOT NULL,
    "consumed_at" TIMESTAMPTZ(6),
    "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "email_verification_tokens_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "password_reset_tokens" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "user_id" UUID NOT NULL,
    "token_hash" TEXT NOT NULL,
    "expires_at" TIMESTAMPTZ(6) NOT NULL,
    "used_at" TIMESTAMPTZ(6),
    "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "password_reset_tokens_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "email_outbox" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "to" TEXT NOT NULL,
    "subject" TEXT NOT NULL,
    "text" TEXT NOT NULL,
    "html" TEXT,
    "status" "email_status" NOT NULL DEFAULT 'PENDING',
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "next_attempt_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "sent_at" TIMESTAMPTZ(6),
    "last_error" TEXT,
    "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "email_outbox_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "agents" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "user_id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "hostname" TEXT NOT NULL,
    "os" TEXT NOT NULL,
    "version" TEXT NOT NULL,
    "last_seen_at" TIMESTAMPTZ(6),
    "revoked_at" TIMESTAMPTZ(6),
    "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "agents_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "agent_tokens" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "agent_id" UUID NOT NULL,
    "token_hash" TEXT NOT NULL,
    "revoked_at" TIMESTAMPTZ(6),
    "last_used_at" TIMESTAMPTZ(6),
    "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "agent_tokens_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "agent_enrollment_codes" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "user_id" UUID NOT NULL,
    "code_hash" TEXT NOT NULL,
    "expires_at" TIMESTAMPTZ(6) NOT NULL,
    "used_at" TIMESTAMPTZ(6),
    "agent_id" UUID,
    "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "agent_enrollment_codes_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "dongles" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "device_id" VARCHAR(16) NOT NULL,
    "name" TEXT,
    "owner_user_id" UUID,
    "ownership_state" "ownership_state" NOT NULL DEFAULT 'UNCLAIMED',
    "last_seen_at" TIMESTAMPTZ(6),
    "last_seen_agent_id" UUID,
    "firmware_version" TEXT,
    "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "dongles_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "dongle_tokens" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "dongle_id" UUID NOT NULL,
    "key_version" INTEGER NOT NULL,
    "nonce" BYTEA NOT NULL,
    "ciphertext" BYTEA NOT NULL,
    "auth_tag" BYTEA NOT NULL,
    "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "dongle_tokens_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "dongle_groups" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "user_id" UUID NOT NULL,
    "name" TEXT,
    "dongle_a_id" UUID NOT NULL,
    "dongle_b_id" UUID NOT NULL,
    "mode" "group_mode" NOT NULL DEFAULT 'ACTIVE',
    "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "dongle_groups_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "dongle_group_members" (
    "group_id" UUID NOT NULL,
    "dongle_id" UUID NOT NULL,

    CONSTRAINT "dongle_group_members_pkey" PRIMARY KEY ("group_id","dongle_id")
);

-- CreateTable
CREATE TABLE "can_configs" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "dongle_id" UUID NOT NULL,
    "mode" "can_mode" NOT NULL DEFAULT 'NORMAL',
    "nominal_bitrate" INTEGER NOT NULL DEFAULT 500000,
    "nominal_sample_point" DOUBLE PRECISION NOT NULL DEFAULT 87.5,
    "nominal_sjw" INTEGER NOT NULL DEFAULT 1,
    "clock_hz" INTEGER NOT NULL DEFAULT 80000000,
    "nominal_prescaler" INTEGER,
    "nominal_seg1" INTEGER,
    "nominal_seg2" INTEGER,
    "fd_enabled" BOOLEAN NOT NULL DEFAULT false,
    "data_bitrate" INTEGER,
    "data_sample_point" DOUBLE PRECISION,
    "data_sjw" INTEGER,
    "data_prescaler" INTEGER,
    "data_seg1" INTEGER,
    "data_seg2" INTEGER,
    "termination" BOOLEAN NOT NULL DEFAULT false,
    "auto_retransmit" BOOLEAN NOT NULL DEFAULT true,
    "version" INTEGER NOT NULL DEFAULT 1,
    "applied_version" INTEGER NOT NULL DEFAULT 0,
    "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "can_configs_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "commands" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "dongle_id" UUID NOT NULL,
    "created_by_user_id" UUID,
    "agent_id" UUID,
    "type" "command_type" NOT NULL,
    "payload" JSONB NOT NULL DEFAULT '{}',
    "status" "command_status" NOT NULL DEFAULT 'QUEUED',
    "result" JSONB,
    "error" TEXT,
    "idempotency_key" TEXT,
    "expires_at" TIMESTAMPTZ(6) NOT NULL,
    "timeout_seconds" INTEGER NOT NULL DEFAULT 30,
    "delivered_at" TIMESTAMPTZ(6),
    "completed_at" TIMESTAMPTZ(6),
    "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "commands_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "audit_logs" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "actor_type" "actor_type" NOT NULL,
    "actor_id" UUID,
    "action" TEXT NOT NULL,
    "target_type" TEXT,
    "target_id" TEXT,
    "result" TEXT NOT NULL DEFAULT 'success',
    "ip" TEXT,
    "user_agent" TEXT,
    "details" JSONB,
    "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "audit_logs_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "rate_limit_counters" (
    "key" TEXT NOT NULL,
    "hits" INTEGER NOT NULL DEFAULT 0,
    "window_start" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "expires_at" TIMESTAMPTZ(6) NOT NULL,

    CONSTRAINT "rate_limit_counters_pkey" PRIMARY KEY ("key")
);

-- CreateTable
CREATE TABLE "idempotency_keys" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "scope" TEXT NOT NULL,
    "key" TEXT NOT NULL,
    "request_hash" TEXT NOT NULL,
    "response_status" INTEGER,
    "response_body" JSONB,
    "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "expires_at" TIMESTAMPTZ(6) NOT NULL,

    CONSTRAINT "idempotency_keys_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "users_email_key" ON "users"("email");

-- CreateIndex
CREATE INDEX "users_status_created_at_idx" ON "users"("status", "created_at");

-- CreateIndex
CREATE UNIQUE INDEX "sessions_public_id_key" ON "sessions"("public_id");

-- CreateIndex
CREATE INDEX "sessions_user_id_idx" ON "sessions"("user_id");

-- CreateIndex
CREATE INDEX "sessions_expire_idx" ON "sessions"("expire");

-- CreateIndex
CREATE UNIQUE INDEX "email_verification_tokens_token_hash_key" ON "email_verification_tokens"("token_hash");

-- CreateIndex
CREATE INDEX "email_verification_tokens_user_id_idx" ON "email_verification_tokens"("user_id");

-- CreateIndex
CREATE UNIQUE INDEX "password_reset_tokens_token_hash_key" ON "password_reset_tokens"("token_hash");

-- CreateIndex
CREATE INDEX "password_reset_tokens_user_id_idx" ON "password_reset_tokens"("user_id");

-- CreateIndex
CREATE INDEX "email_outbox_status_next_attempt_at_idx" ON "email_outbox"("status", "next_attempt_at");

-- CreateIndex
CREATE INDEX "agents_user_id_created_at_idx" ON "agents"("user_id", "created_at");

-- CreateIndex
CREATE UNIQUE INDEX "agent_tokens_token_hash_key" ON "agent_tokens"("token_hash");

-- CreateIndex
CREATE INDEX "agent_tokens_agent_id_idx" ON "agent_tokens"("agent_id");

-- CreateIndex
CREATE UNIQUE INDEX "agent_enrollment_codes_code_hash_key" ON "agent_enrollment_codes"("code_hash");

-- CreateIndex
CREATE UNIQUE INDEX "agent_enrollment_codes_agent_id_key" ON "agent_enrollment_codes"("agent_id");

-- CreateIndex
CREATE INDEX "agent_enrollment_codes_user_id_idx" ON "agent_enrollment_codes"("user_id");

-- CreateIndex
CREATE UNIQUE INDEX "dongles_device_id_key" ON "dongles"("device_id");

-- CreateIndex
CREATE INDEX "dongles_owner_user_id_created_at_idx" ON "dongles"("owner_user_id", "created_at");

-- CreateIndex
CREATE INDEX "dongles_last_seen_agent_id_idx" ON "dongles"("last_seen_agent_id");

-- CreateIndex
CREATE UNIQUE INDEX "dongle_tokens_dongle_id_key" ON "dongle_tokens"("dongle_id");

-- CreateIndex
CREATE INDEX "dongle_tokens_key_version_idx" ON "dongle_tokens"("key_version");

-- CreateIndex
CREATE UNIQUE INDEX "dongle_groups_dongle_a_id_key" ON "dongle_groups"("dongle_a_id");

-- CreateIndex
CREATE UNIQUE INDEX "dongle_groups_dongle_b_id_key" ON "dongle_groups"("dongle_b_id");

-- CreateIndex
CREATE INDEX "dongle_groups_user_id_created_at_idx" ON "dongle_groups"("user_id", "created_at");

-- CreateIndex
CREATE UNIQUE INDEX "dongle_group_members_dongle_id_key" ON "dongle_group_members"("dongle_id");

-- CreateIndex
CREATE UNIQUE INDEX "can_configs_dongle_id_key" ON "can_configs"("dongle_id");

-- CreateIndex
CREATE INDEX "commands_dongle_id_created_at_idx" ON "commands"("dongle_id", "created_at");

-- CreateIndex
CREATE INDEX "commands_status_expires_at_idx" ON "commands"("status", "expires_at");

-- CreateIndex
CREATE INDEX "commands_status_delivered_at_idx" ON "commands"("status", "delivered_at");

-- CreateIndex
CREATE INDEX "commands_agent_id_idx" ON "commands"("agent_id");

-- CreateIndex
CREATE INDEX "commands_created_by_user_id_idx" ON "commands"("created_by_user_id");

-- CreateIndex
CREATE INDEX "audit_logs_created_at_id_idx" ON "audit_logs"("created_at" DESC, "id" DESC);

-- CreateIndex
CREATE INDEX "audit_logs_actor_id_created_at_idx" ON "audit_logs"("actor_id", "created_at" DESC);

-- CreateIndex
CREATE INDEX "audit_logs_action_created_at_idx" ON "audit_logs"("action", "created_at" DESC);

-- CreateIndex
CREATE INDEX "audit_logs_target_type_target_id_created_at_idx" ON "audit_logs"("target_type", "target_id", "created_at" DESC);

-- CreateIndex
CREATE INDEX "rate_limit_counters_expires_at_idx" ON "rate_limit_counters"("expires_at");

-- CreateIndex
CREATE INDEX "idempotency_keys_expires_at_idx" ON "idempotency_keys"("expires_at");

-- CreateIndex
CREATE UNIQUE INDEX "idempotency_keys_scope_key_key" ON "idempotency_keys"("scope", "key");

-- AddForeignKey
ALTER TABLE "sessions" ADD CONSTRAINT "sessions_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "email_verification_tokens" ADD CONSTRAINT "email_verification_tokens_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "password_reset_tokens" ADD CONSTRAINT "password_reset_tokens_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "agents" ADD CONSTRAINT "agents_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "agent_tokens" ADD CONSTRAINT "agent_tokens_agent_id_fkey" FOREIGN KEY ("agent_id") REFERENCES "agents"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "agent_enrollment_codes" ADD CONSTRAINT "agent_enrollment_codes_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "agent_enrollment_codes" ADD CONSTRAINT "agent_enrollment_codes_agent_id_fkey" FOREIGN KEY ("agent_id") REFERENCES "agents"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "dongles" ADD CONSTRAINT "dongles_owner_user_id_fkey" FOREIGN KEY ("owner_user_id") REFERENCES "users"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "dongles" ADD CONSTRAINT "dongles_last_seen_agent_id_fkey" FOREIGN KEY ("last_seen_agent_id") REFERENCES "agents"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "dongle_tokens" ADD CONSTRAINT "dongle_tokens_dongle_id_fkey" FOREIGN KEY ("dongle_id") REFERENCES "dongles"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "dongle_groups" ADD CONSTRAINT "dongle_groups_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "dongle_groups" ADD CONSTRAINT "dongle_groups_dongle_a_id_fkey" FOREIGN KEY ("dongle_a_id") REFERENCES "dongles"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "dongle_groups" ADD CONSTRAINT "dongle_groups_dongle_b_id_fkey" FOREIGN KEY ("dongle_b_id") REFERENCES "dongles"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "dongle_group_members" ADD CONSTRAINT "dongle_group_members_group_id_fkey" FOREIGN KEY ("group_id") REFERENCES "dongle_groups"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "dongle_group_members" ADD CONSTRAINT "dongle_group_members_dongle_id_fkey" FOREIGN KEY ("dongle_id") REFERENCES "dongles"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "can_configs" ADD CONSTRAINT "can_configs_dongle_id_fkey" FOREIGN KEY ("dongle_id") REFERENCES "dongles"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "commands" ADD CONSTRAINT "commands_dongle_id_fkey" FOREIGN KEY ("dongle_id") REFERENCES "dongles"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "commands" ADD CONSTRAINT "commands_created_by_user_id_fkey" FOREIGN KEY ("created_by_user_id") REFERENCES "users"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "commands" ADD CONSTRAINT "commands_agent_id_fkey" FOREIGN KEY ("agent_id") REFERENCES "agents"("id") ON DELETE SET NULL ON UPDATE CASCADE;


-- Raw-SQL invariants that schema.prisma cannot express. Each block is listed in
-- doc/database.md; the drift test re-applies exactly these blocks on top of the SQL that
-- schema.prisma generates and compares the two databases.

-- raw-sql:begin dongles_device_id_format
ALTER TABLE "dongles" ADD CONSTRAINT "dongles_device_id_format" CHECK ("device_id" ~ '^[0-9a-f]{16}$');
-- raw-sql:end

-- raw-sql:begin dongles_owner_matches_state
-- An unclaimed dongle has no owner; every other state has one.
ALTER TABLE "dongles" ADD CONSTRAINT "dongles_owner_matches_state" CHECK (("ownership_state" = 'UNCLAIMED') = ("owner_user_id" IS NULL));
-- raw-sql:end

-- raw-sql:begin dongle_groups_distinct_dongles
ALTER TABLE "dongle_groups" ADD CONSTRAINT "dongle_groups_distinct_dongles" CHECK ("dongle_a_id" <> "dongle_b_id");
-- raw-sql:end

-- raw-sql:begin dongle_groups_one_group_per_dongle
-- Mirrors both slots of every group into dongle_group_members, whose UNIQUE (dongle_id)
-- keeps a dongle in at most one group whichever slot it takes (a UNIQUE on each column alone
-- would let X be dongle_a of one group and dongle_b of another).
CREATE FUNCTION "dongle_groups_sync_members"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'UPDATE' THEN
    DELETE FROM "dongle_group_members" WHERE "group_id" = OLD."id";
  END IF;
  INSERT INTO "dongle_group_members" ("group_id", "dongle_id")
  VALUES (NEW."id", NEW."dongle_a_id"), (NEW."id", NEW."dongle_b_id");
  RETURN NULL;
END
$$;
CREATE TRIGGER "dongle_groups_sync_members"
  AFTER INSERT OR UPDATE OF "dongle_a_id", "dongle_b_id" ON "dongle_groups"
  FOR EACH ROW EXECUTE FUNCTION "dongle_groups_sync_members"();
-- raw-sql:end

-- raw-sql:begin audit_logs_append_only
-- UPDATE and TRUNCATE are always refused. DELETE is refused unless the transaction has set
-- fleet.audit_prune = 'on', which only the documented retention command does.
CREATE FUNCTION "audit_logs_append_only"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'DELETE' AND current_setting('fleet.audit_prune', true) = 'on' THEN
    RETURN OLD;
  END IF;
  RAISE EXCEPTION 'audit_logs is append-only: % is not allowed', TG_OP
    USING ERRCODE = 'insufficient_privilege',
          HINT = 'Old rows leave only through the retention command (npm run audit:prune).';
END
$$;
CREATE TRIGGER "audit_logs_no_update_delete"
  BEFORE UPDATE OR DELETE ON "audit_logs"
  FOR EACH ROW EXECUTE FUNCTION "audit_logs_append_only"();
CREATE TRIGGER "audit_logs_no_truncate"
  BEFORE TRUNCATE ON "audit_logs"
  FOR EACH STATEMENT EXECUTE FUNCTION "audit_logs_append_only"();
-- raw-sql:end
