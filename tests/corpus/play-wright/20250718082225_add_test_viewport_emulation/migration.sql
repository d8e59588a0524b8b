-- AlterTable
ALTER TABLE "Test" ADD COLUMN "viewport" TEXT;
