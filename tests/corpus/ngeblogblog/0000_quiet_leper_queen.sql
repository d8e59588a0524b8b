CREATE TABLE `todos` (
	`id` integer PRIMARY KEY NOT NULL,
	`name` text,
	`username` integer
);
