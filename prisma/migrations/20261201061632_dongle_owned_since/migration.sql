-- AlterTable
ALTER TABLE "dongles" ADD COLUMN     "owned_since" TIMESTAMPTZ(6);

-- A command must never outlive the ownership it was created under (issue 9): the hand-out
-- refuses commands created before `owned_since`. Existing owned dongles start their ownership at
-- their last state change (for CLAIMED_ACTIVE: the token ack, before any of the current
-- owner's commands could be queued).
UPDATE "dongles" SET "owned_since" = "state_changed_at" WHERE "owner_user_id" IS NOT NULL;

-- raw-sql:begin dongles_owned_since
-- Stamps owned_since whenever owner_user_id changes (now() when a new owner arrives, NULL when
-- the dongle is unowned), whichever code path or person writes it.
CREATE FUNCTION "dongles_stamp_owned_since"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' OR NEW."owner_user_id" IS DISTINCT FROM OLD."owner_user_id" THEN
    NEW."owned_since" := CASE WHEN NEW."owner_user_id" IS NULL THEN NULL ELSE now() END;
  END IF;
  RETURN NEW;
END
$$;
CREATE TRIGGER "dongles_stamp_owned_since"
  BEFORE INSERT OR UPDATE OF "owner_user_id" ON "dongles"
  FOR EACH ROW EXECUTE FUNCTION "dongles_stamp_owned_since"();
-- raw-sql:end
