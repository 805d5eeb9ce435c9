-- CreateEnum
CREATE TYPE "job_status" AS ENUM ('SCHEDULED', 'IN_PROGRESS', 'PAUSED', 'COMPLETED', 'ABORTED', 'CANCELLED');

-- CreateEnum
CREATE TYPE "job_operation" AS ENUM ('COMMAND', 'CAN_CONFIG', 'FIRMWARE_UPDATE');

-- CreateEnum
CREATE TYPE "execution_status" AS ENUM ('PENDING', 'IN_PROGRESS', 'SUCCEEDED', 'FAILED', 'TIMED_OUT', 'SKIPPED', 'CANCELLED');

-- AlterEnum
ALTER TYPE "command_type" ADD VALUE 'FIRMWARE_UPDATE';

-- AlterTable
ALTER TABLE "dongles" ADD COLUMN     "board_revision" TEXT,
ADD COLUMN     "chip_family" TEXT,
ADD COLUMN     "tags" JSONB NOT NULL DEFAULT '{}';

-- AlterTable
ALTER TABLE "commands" ADD COLUMN     "job_id" UUID;

-- CreateTable
CREATE TABLE "signing_keys" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "organization_id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "public_key" BYTEA NOT NULL,
    "revoked_at" TIMESTAMPTZ(6),
    "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "signing_keys_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "firmware_images" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "organization_id" UUID NOT NULL,
    "created_by_user_id" UUID,
    "version" TEXT NOT NULL,
    "chip_family" TEXT NOT NULL,
    "board_revision" TEXT NOT NULL,
    "size" INTEGER NOT NULL,
    "sha256" TEXT NOT NULL,
    "data" BYTEA NOT NULL,
    "signature" BYTEA,
    "signing_key_id" UUID,
    "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "firmware_images_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "jobs" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "organization_id" UUID NOT NULL,
    "created_by_user_id" UUID,
    "name" TEXT,
    "operation" "job_operation" NOT NULL,
    "spec" JSONB NOT NULL DEFAULT '{}',
    "firmware_image_id" UUID,
    "selector" TEXT,
    "rollout" JSONB NOT NULL,
    "abort_rules" JSONB NOT NULL DEFAULT '[]',
    "execution_timeout_seconds" INTEGER NOT NULL,
    "require_signed" BOOLEAN NOT NULL DEFAULT false,
    "status" "job_status" NOT NULL DEFAULT 'SCHEDULED',
    "current_stage" INTEGER NOT NULL DEFAULT 0,
    "status_reason" TEXT,
    "target_count" INTEGER NOT NULL DEFAULT 0,
    "start_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "deadline" TIMESTAMPTZ(6) NOT NULL,
    "dispatch_credit" DOUBLE PRECISION NOT NULL DEFAULT 0,
    "last_dispatch_at" TIMESTAMPTZ(6),
    "started_at" TIMESTAMPTZ(6),
    "finished_at" TIMESTAMPTZ(6),
    "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "jobs_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "job_executions" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "job_id" UUID NOT NULL,
    "dongle_id" UUID NOT NULL,
    "seq" INTEGER NOT NULL,
    "status" "execution_status" NOT NULL DEFAULT 'PENDING',
    "command_id" UUID,
    "reason" TEXT,
    "from_version" TEXT,
    "dispatched_at" TIMESTAMPTZ(6),
    "finished_at" TIMESTAMPTZ(6),
    "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "job_executions_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "signing_keys_organization_id_created_at_idx" ON "signing_keys"("organization_id", "created_at");

-- CreateIndex
CREATE INDEX "firmware_images_organization_id_created_at_idx" ON "firmware_images"("organization_id", "created_at");

-- CreateIndex
CREATE UNIQUE INDEX "firmware_images_organization_id_chip_family_board_revision__key" ON "firmware_images"("organization_id", "chip_family", "board_revision", "version");

-- CreateIndex
CREATE INDEX "jobs_organization_id_created_at_idx" ON "jobs"("organization_id", "created_at");

-- CreateIndex
CREATE INDEX "jobs_status_idx" ON "jobs"("status");

-- CreateIndex
CREATE INDEX "jobs_finished_at_idx" ON "jobs"("finished_at");

-- CreateIndex
CREATE UNIQUE INDEX "job_executions_command_id_key" ON "job_executions"("command_id");

-- CreateIndex
CREATE INDEX "job_executions_job_id_status_seq_idx" ON "job_executions"("job_id", "status", "seq");

-- CreateIndex
CREATE INDEX "job_executions_dongle_id_idx" ON "job_executions"("dongle_id");

-- CreateIndex
CREATE UNIQUE INDEX "job_executions_job_id_dongle_id_key" ON "job_executions"("job_id", "dongle_id");

-- CreateIndex
CREATE INDEX "dongles_tags_idx" ON "dongles" USING GIN ("tags" jsonb_ops);

-- CreateIndex
CREATE INDEX "commands_job_id_status_idx" ON "commands"("job_id", "status");

-- AddForeignKey
ALTER TABLE "commands" ADD CONSTRAINT "commands_job_id_fkey" FOREIGN KEY ("job_id") REFERENCES "jobs"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "signing_keys" ADD CONSTRAINT "signing_keys_organization_id_fkey" FOREIGN KEY ("organization_id") REFERENCES "organizations"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "firmware_images" ADD CONSTRAINT "firmware_images_organization_id_fkey" FOREIGN KEY ("organization_id") REFERENCES "organizations"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "firmware_images" ADD CONSTRAINT "firmware_images_created_by_user_id_fkey" FOREIGN KEY ("created_by_user_id") REFERENCES "users"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "firmware_images" ADD CONSTRAINT "firmware_images_signing_key_id_fkey" FOREIGN KEY ("signing_key_id") REFERENCES "signing_keys"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "jobs" ADD CONSTRAINT "jobs_organization_id_fkey" FOREIGN KEY ("organization_id") REFERENCES "organizations"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "jobs" ADD CONSTRAINT "jobs_created_by_user_id_fkey" FOREIGN KEY ("created_by_user_id") REFERENCES "users"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "jobs" ADD CONSTRAINT "jobs_firmware_image_id_fkey" FOREIGN KEY ("firmware_image_id") REFERENCES "firmware_images"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "job_executions" ADD CONSTRAINT "job_executions_job_id_fkey" FOREIGN KEY ("job_id") REFERENCES "jobs"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "job_executions" ADD CONSTRAINT "job_executions_dongle_id_fkey" FOREIGN KEY ("dongle_id") REFERENCES "dongles"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "job_executions" ADD CONSTRAINT "job_executions_command_id_fkey" FOREIGN KEY ("command_id") REFERENCES "commands"("id") ON DELETE SET NULL ON UPDATE CASCADE;
