ALTER TABLE characters ADD COLUMN sprite TEXT NOT NULL DEFAULT 'student';
