-- AlterTable
ALTER TABLE "Trip" ADD COLUMN "description" TEXT;
ALTER TABLE "Trip" ADD COLUMN "title" TEXT;
