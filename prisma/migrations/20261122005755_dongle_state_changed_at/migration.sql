-- AlterTable
ALTER TABLE "dongles" ADD COLUMN     "state_changed_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP;

-- CreateIndex
CREATE INDEX "dongles_ownership_state_state_changed_at_idx" ON "dongles"("ownership_state", "state_changed_at");

-- Existing rows get the migration's time: a claim already pending starts its lapse timer now.

-- raw-sql:begin dongles_state_changed_at
-- Stamps state_changed_at whenever ownership_state changes, whichever code path (or person)
-- writes it, so the claim-lapse worker can trust it.
CREATE FUNCTION "dongles_stamp_state_change"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW."ownership_state" IS DISTINCT FROM OLD."ownership_state" THEN
    NEW."state_changed_at" := now();
  END IF;
  RETURN NEW;
END
$$;
CREATE TRIGGER "dongles_stamp_state_change"
  BEFORE UPDATE OF "ownership_state" ON "dongles"
  FOR EACH ROW EXECUTE FUNCTION "dongles_stamp_state_change"();
-- raw-sql:end
