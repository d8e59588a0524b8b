CREATE TABLE `post` (
	`id` integer,
	`title` text,
	`description` text,
	`date` text,
	`author` text,
	`category` text,
	`content` text
);
