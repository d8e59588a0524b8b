CREATE TABLE `category` (
	`id` integer PRIMARY KEY NOT NULL,
	`name` text,
	`username` integer
);
