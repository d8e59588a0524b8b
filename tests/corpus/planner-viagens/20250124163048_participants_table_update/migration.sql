-- DropIndex
DROP INDEX "participants_id_key";
