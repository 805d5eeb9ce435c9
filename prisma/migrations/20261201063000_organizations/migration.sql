-- Organizations (issue 12): organizations, memberships, invitations, API keys, and an
-- organization on everything of the fleet. Expand and backfill in one transaction:
--   1. new tables; organization_id columns added NULLABLE (the tables have rows);
--   2. backfill: a personal organization per existing user (owner membership), then every
--      agent, enrollment code, owned dongle, group and command into its owner's personal
--      organization;
--   3. SET NOT NULL, which fails (and rolls the whole migration back) if a row was missed;
--   4. triggers that keep v0.7-shaped writers working (seed 004 inserts users, dongles and
--      groups with no organization): every new user gets a personal organization, and a row
--      inserted without organization_id takes its owner's personal one.
-- Runbook: doc/migrations.md, "Organizations (20261201063000)".

-- CreateEnum
CREATE TYPE "org_role" AS ENUM ('owner', 'admin', 'operator', 'viewer');

-- CreateEnum
CREATE TYPE "api_key_scope" AS ENUM ('read', 'operate', 'admin');

-- AlterTable
ALTER TABLE "agents" ADD COLUMN     "organization_id" UUID;

-- AlterTable
ALTER TABLE "agent_enrollment_codes" ADD COLUMN     "organization_id" UUID;

-- AlterTable
ALTER TABLE "dongles" ADD COLUMN     "organization_id" UUID;

-- AlterTable
ALTER TABLE "dongle_groups" ADD COLUMN     "organization_id" UUID;

-- AlterTable
ALTER TABLE "commands" ADD COLUMN     "organization_id" UUID;

-- AlterTable
ALTER TABLE "audit_logs" ADD COLUMN     "organization_id" UUID;

-- CreateTable
CREATE TABLE "organizations" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "name" TEXT NOT NULL,
    "personal_owner_user_id" UUID,
    "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "organizations_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "memberships" (
    "organization_id" UUID NOT NULL,
    "user_id" UUID NOT NULL,
    "role" "org_role" NOT NULL,
    "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "memberships_pkey" PRIMARY KEY ("organization_id","user_id")
);

-- CreateTable
CREATE TABLE "invitations" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "organization_id" UUID NOT NULL,
    "email" TEXT NOT NULL,
    "role" "org_role" NOT NULL,
    "token_hash" TEXT NOT NULL,
    "invited_by_user_id" UUID,
    "expires_at" TIMESTAMPTZ(6) NOT NULL,
    "accepted_at" TIMESTAMPTZ(6),
    "accepted_by_user_id" UUID,
    "revoked_at" TIMESTAMPTZ(6),
    "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "invitations_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "api_keys" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "organization_id" UUID NOT NULL,
    "user_id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "scope" "api_key_scope" NOT NULL,
    "prefix" TEXT NOT NULL,
    "key_hash" TEXT NOT NULL,
    "expires_at" TIMESTAMPTZ(6) NOT NULL,
    "last_used_at" TIMESTAMPTZ(6),
    "last_used_ip" TEXT,
    "revoked_at" TIMESTAMPTZ(6),
    "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "api_keys_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "organizations_personal_owner_user_id_key" ON "organizations"("personal_owner_user_id");

-- CreateIndex
CREATE INDEX "memberships_user_id_idx" ON "memberships"("user_id");

-- CreateIndex
CREATE UNIQUE INDEX "invitations_token_hash_key" ON "invitations"("token_hash");

-- CreateIndex
CREATE INDEX "invitations_organization_id_created_at_idx" ON "invitations"("organization_id", "created_at");

-- CreateIndex
CREATE UNIQUE INDEX "api_keys_key_hash_key" ON "api_keys"("key_hash");

-- CreateIndex
CREATE INDEX "api_keys_organization_id_user_id_idx" ON "api_keys"("organization_id", "user_id");

-- CreateIndex
CREATE INDEX "agents_organization_id_created_at_idx" ON "agents"("organization_id", "created_at");

-- CreateIndex
CREATE INDEX "agent_enrollment_codes_organization_id_idx" ON "agent_enrollment_codes"("organization_id");

-- CreateIndex
CREATE INDEX "dongles_organization_id_created_at_idx" ON "dongles"("organization_id", "created_at");

-- CreateIndex
CREATE INDEX "dongle_groups_organization_id_created_at_idx" ON "dongle_groups"("organization_id", "created_at");

-- CreateIndex
CREATE INDEX "commands_organization_id_idx" ON "commands"("organization_id");

-- CreateIndex
CREATE INDEX "audit_logs_organization_id_created_at_id_idx" ON "audit_logs"("organization_id", "created_at" DESC, "id" DESC);

-- AddForeignKey
ALTER TABLE "organizations" ADD CONSTRAINT "organizations_personal_owner_user_id_fkey" FOREIGN KEY ("personal_owner_user_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "memberships" ADD CONSTRAINT "memberships_organization_id_fkey" FOREIGN KEY ("organization_id") REFERENCES "organizations"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "memberships" ADD CONSTRAINT "memberships_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "invitations" ADD CONSTRAINT "invitations_organization_id_fkey" FOREIGN KEY ("organization_id") REFERENCES "organizations"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "invitations" ADD CONSTRAINT "invitations_invited_by_user_id_fkey" FOREIGN KEY ("invited_by_user_id") REFERENCES "users"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "api_keys" ADD CONSTRAINT "api_keys_organization_id_fkey" FOREIGN KEY ("organization_id") REFERENCES "organizations"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "api_keys" ADD CONSTRAINT "api_keys_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "agents" ADD CONSTRAINT "agents_organization_id_fkey" FOREIGN KEY ("organization_id") REFERENCES "organizations"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "agent_enrollment_codes" ADD CONSTRAINT "agent_enrollment_codes_organization_id_fkey" FOREIGN KEY ("organization_id") REFERENCES "organizations"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "dongles" ADD CONSTRAINT "dongles_organization_id_fkey" FOREIGN KEY ("organization_id") REFERENCES "organizations"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "dongle_groups" ADD CONSTRAINT "dongle_groups_organization_id_fkey" FOREIGN KEY ("organization_id") REFERENCES "organizations"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "commands" ADD CONSTRAINT "commands_organization_id_fkey" FOREIGN KEY ("organization_id") REFERENCES "organizations"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- ---------------------------------------------------------------- backfill (v0.7 → personal organizations)
INSERT INTO "organizations" ("name", "personal_owner_user_id", "created_at")
SELECT u."email", u."id", u."created_at" FROM "users" u;

INSERT INTO "memberships" ("organization_id", "user_id", "role", "created_at")
SELECT o."id", o."personal_owner_user_id", 'owner', o."created_at"
  FROM "organizations" o WHERE o."personal_owner_user_id" IS NOT NULL;

UPDATE "agents" t SET "organization_id" = o."id"
  FROM "organizations" o WHERE o."personal_owner_user_id" = t."user_id";
UPDATE "agent_enrollment_codes" t SET "organization_id" = o."id"
  FROM "organizations" o WHERE o."personal_owner_user_id" = t."user_id";
UPDATE "dongles" t SET "organization_id" = o."id"
  FROM "organizations" o WHERE o."personal_owner_user_id" = t."owner_user_id";
UPDATE "dongle_groups" t SET "organization_id" = o."id"
  FROM "organizations" o WHERE o."personal_owner_user_id" = t."user_id";
-- A command belongs where its creator worked; a system-made one (no creator) to the dongle's
-- current owner. v0.7 showed a command to exactly these users, so nobody gains or loses one.
UPDATE "commands" t SET "organization_id" = o."id"
  FROM "organizations" o WHERE o."personal_owner_user_id" = t."created_by_user_id";
UPDATE "commands" t SET "organization_id" = d."organization_id"
  FROM "dongles" d WHERE t."organization_id" IS NULL AND d."id" = t."dongle_id" AND d."organization_id" IS NOT NULL;
-- What is left has no creator and an unowned dongle: v0.7 showed it to nobody. It cannot
-- belong anywhere, so it goes (the count is in the migration's notices).
DO $$
DECLARE orphaned integer;
BEGIN
  DELETE FROM "commands" WHERE "organization_id" IS NULL;
  GET DIAGNOSTICS orphaned = ROW_COUNT;
  RAISE NOTICE 'organizations backfill: % orphaned system command(s) deleted', orphaned;
END
$$;

-- Proves the backfill complete: any row missed makes this migration fail and roll back.
ALTER TABLE "agents" ALTER COLUMN "organization_id" SET NOT NULL;
ALTER TABLE "agent_enrollment_codes" ALTER COLUMN "organization_id" SET NOT NULL;
ALTER TABLE "dongle_groups" ALTER COLUMN "organization_id" SET NOT NULL;
ALTER TABLE "commands" ALTER COLUMN "organization_id" SET NOT NULL;

-- raw-sql:begin organizations_personal_per_user
-- Every user has exactly one personal organization, owned by them, whoever inserts the user
-- (signup, the admin bootstrap, a script, seed 004): created in the same statement.
CREATE FUNCTION "users_create_personal_organization"() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE org_id uuid;
BEGIN
  INSERT INTO "organizations" ("name", "personal_owner_user_id") VALUES (NEW."email", NEW."id") RETURNING "id" INTO org_id;
  INSERT INTO "memberships" ("organization_id", "user_id", "role") VALUES (org_id, NEW."id", 'owner');
  RETURN NEW;
END
$$;
CREATE TRIGGER "users_create_personal_organization"
  AFTER INSERT ON "users"
  FOR EACH ROW EXECUTE FUNCTION "users_create_personal_organization"();
-- raw-sql:end

-- raw-sql:begin organizations_default_from_owner
-- v0.7-shaped writers name only a user: a row inserted without organization_id lands in that
-- user's personal organization. The application always names the organization itself.
CREATE FUNCTION "fleet_default_organization"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW."organization_id" IS NULL THEN
    SELECT o."id" INTO NEW."organization_id" FROM "organizations" o WHERE o."personal_owner_user_id" = NEW."user_id";
  END IF;
  RETURN NEW;
END
$$;
CREATE TRIGGER "agents_default_organization" BEFORE INSERT ON "agents"
  FOR EACH ROW EXECUTE FUNCTION "fleet_default_organization"();
CREATE TRIGGER "agent_enrollment_codes_default_organization" BEFORE INSERT ON "agent_enrollment_codes"
  FOR EACH ROW EXECUTE FUNCTION "fleet_default_organization"();
CREATE TRIGGER "dongle_groups_default_organization" BEFORE INSERT ON "dongle_groups"
  FOR EACH ROW EXECUTE FUNCTION "fleet_default_organization"();

-- A dongle belongs to an organization exactly while it has an owner: losing the owner (release,
-- force-release, lapse) clears it; an owner given without an organization brings their
-- personal one.
CREATE FUNCTION "dongles_default_organization"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW."owner_user_id" IS NULL THEN
    NEW."organization_id" := NULL;
  ELSIF NEW."organization_id" IS NULL THEN
    SELECT o."id" INTO NEW."organization_id" FROM "organizations" o WHERE o."personal_owner_user_id" = NEW."owner_user_id";
  END IF;
  RETURN NEW;
END
$$;
CREATE TRIGGER "dongles_default_organization" BEFORE INSERT OR UPDATE OF "owner_user_id", "organization_id" ON "dongles"
  FOR EACH ROW EXECUTE FUNCTION "dongles_default_organization"();

-- A command belongs to its dongle's organization at the time it is queued.
CREATE FUNCTION "commands_default_organization"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW."organization_id" IS NULL THEN
    SELECT d."organization_id" INTO NEW."organization_id" FROM "dongles" d WHERE d."id" = NEW."dongle_id";
  END IF;
  RETURN NEW;
END
$$;
CREATE TRIGGER "commands_default_organization" BEFORE INSERT ON "commands"
  FOR EACH ROW EXECUTE FUNCTION "commands_default_organization"();
-- raw-sql:end

-- raw-sql:begin dongles_organization_matches_owner
-- An owned dongle belongs to an organization, an unowned one to none.
ALTER TABLE "dongles" ADD CONSTRAINT "dongles_organization_matches_owner"
  CHECK (("organization_id" IS NULL) = ("owner_user_id" IS NULL));
-- raw-sql:end
