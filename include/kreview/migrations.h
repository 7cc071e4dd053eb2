/*
 * migrations.h - the SQL migrations of db/ (the main database) and
 * db/bugs/ (each per-section bug database), embedded at build time.
 * Each table is sorted by version; versions start at 1 and have no
 * gaps.  Shipped migrations are never edited, only added.
 */
#ifndef KREVIEW_MIGRATIONS_H
#define KREVIEW_MIGRATIONS_H

#include <stddef.h>

struct db_migration {
	int version;
	const char *name;
	const char *sql;
};

extern const struct db_migration db_migrations[];
extern const size_t db_migrations_nr;
extern const struct db_migration bugdb_migrations[];
extern const size_t bugdb_migrations_nr;

#endif
