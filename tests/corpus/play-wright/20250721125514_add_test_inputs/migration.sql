-- AlterTable
ALTER TABLE "Test" ADD COLUMN "input" TEXT;
