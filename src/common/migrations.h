/* migrations.h: the SQL migrations compiled in from sql/ (see script/embed-sql). */
#ifndef MCPAUTH_MIGRATIONS_H
#define MCPAUTH_MIGRATIONS_H

struct mcpauth_migration {
	int version;
	const char *name;
	const char *sql;
};

extern const struct mcpauth_migration mcpauth_migrations[];
extern const int mcpauth_migrations_count;

#endif
