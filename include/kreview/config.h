/*
 * config.h - kreview's configuration: the YAML file, its schema, and a
 * binder that fills C structs from a yamlnode tree.
 *
 * One YAML file (config/kreview.yaml is the documented example,
 * kreview.yaml(5) the reference).  Loading is two steps: yamlnode.h
 * parses the file into a bounded tree with positions, then the binder
 * walks that tree against tables of fields (struct config_field) and
 * writes C values at fixed offsets into a struct.  Every problem is
 * reported as "FILE:LINE:COL: message", one per line, and the binder
 * keeps going after an error so that one run shows all of them.
 *
 * The configuration object is immutable once loaded (STYLE rule 9): a
 * reload builds a new one and swaps the pointer.  Secrets never live in
 * it; sections that need a key name a file or an environment variable
 * holding it.
 *
 * Sections.  The top-level table in config.c has one entry per
 * section.  Today it binds 'state_dir', 'database' and 'ingest'.  The
 * sections 'endpoints', 'review', 'lists', 'bugs' and 'daemon' are
 * reserved for the modules that own them: such a module declares its
 * section type, adds a member to struct kreview_config below (a pointer
 * to a forward-declared struct keeps its header out of this one) and a
 * CONFIG_CUSTOM entry to the top-level table whose parse callback uses
 * the public binder functions in this header on its subtree.  There is
 * deliberately no run-time registration: the schema is a constant
 * table, and a key nobody owns is an error ("unknown key").
 */
#ifndef KREVIEW_CONFIG_H
#define KREVIEW_CONFIG_H

#include "kreview/common.h"
#include "kreview/strbuf.h"
#include "kreview/yamlnode.h"

struct llm_config;
struct reply_lists;
struct outbox_mail;
struct bugdb_config;
struct daemon_config;

/* Value types the binder fills; the C storage each one needs. */

/* CONFIG_STRLIST: a list of owned, non-empty strings. */
struct config_strlist {
	char **v;
	size_t nr;
};

/* CONFIG_STRMAP: owned key/value strings in document order. */
struct config_strmap {
	char **keys;
	char **values;
	size_t nr;
};

/* CONFIG_SEQUENCE: 'nr' elements of the field's 'elem_size' bytes. */
struct config_seq {
	void *items;
	size_t nr;
};

enum config_type {
	CONFIG_STRING,	 /* char *, owned; default 'def_str' (or NULL) */
	CONFIG_BOOL,	 /* bool: only 'true' or 'false'; 'def_bool' */
	CONFIG_INT,	 /* int in min..max; 'def_int' */
	CONFIG_INT64,	 /* int64_t in min..max; 'def_int' */
	CONFIG_DOUBLE,	 /* double in dmin..dmax, finite; 'def_double' */
	CONFIG_DURATION, /* int64_t ms: "500ms", "30s", "90m", "24h", "7d",
			    "1h30m"; range min..max in ms; 'def_int' */
	CONFIG_STRLIST,	 /* struct config_strlist; 'def_list' */
	CONFIG_STRMAP,	 /* struct config_strmap: mapping of strings */
	CONFIG_ENUM,	 /* int: index into 'names'; 'def_int' */
	CONFIG_MAPPING,	 /* embedded struct bound with 'fields' */
	CONFIG_SEQUENCE, /* struct config_seq of 'elem_size' structs, each
			    bound from a mapping with 'fields' */
	CONFIG_CUSTOM,	 /* anything: 'parse' and 'release' */
	CONFIG_TYPE_MAX
};

/*
 * Callback for a CONFIG_CUSTOM field.  'field' points at the member
 * (the struct plus the field's offset).  'node' is the value, or NULL
 * when the key is absent so that the callback can set its defaults.
 * Report problems with yamlnode_error() (or the helpers below) into
 * 'err' and return -EINVAL: a failure must leave a message.  The
 * binder carries on with the next key.  Whatever the outcome,
 * 'release' must be able to free what 'parse' left behind, including
 * the zeroed member when 'parse' was never called (a required key that
 * is absent is reported by the binder without calling it).
 */
typedef int config_parse_fn(void *field, const struct yamlnode *node,
			    struct strbuf *err);
typedef void config_release_fn(void *field);
/*
 * Optional check run after a value of any type was bound from 'node'
 * (not for defaults); same error convention.
 */
typedef int config_check_fn(const void *field, const struct yamlnode *node,
			    struct strbuf *err);

/*
 * One key of a mapping.  Tables are arrays terminated by an entry with
 * a NULL 'key'.  Members a type does not use are left zero.
 */
struct config_field {
	const char *key;
	enum config_type type;
	size_t offset; /* use CONFIG_MEMBER() to get it type-checked */
	bool required; /* "missing required key" when absent */

	/* INT, INT64, DURATION: inclusive range; both 0 = any value. */
	int64_t min, max;
	/* DOUBLE: inclusive range; both 0 = any finite value. */
	double dmin, dmax;

	/* Defaults, applied before the mapping is read. */
	const char *def_str;
	int64_t def_int;
	double def_double;
	bool def_bool;
	const char *const *def_list; /* NULL-terminated */

	const char *const *names; /* ENUM: NULL-terminated value names */
	const struct config_field *fields; /* MAPPING, SEQUENCE */
	size_t elem_size;		   /* SEQUENCE */
	config_parse_fn *parse;		   /* CUSTOM */
	config_release_fn *release;	   /* CUSTOM, may be NULL */
	config_check_fn *check;		   /* any type, may be NULL */

	const char *doc; /* one line for humans and kreview.yaml(5) */
};

/*
 * offsetof(type, member), refusing to compile unless the member has
 * type 'ctype', so a table entry cannot write an int64_t into an int.
 */
#define CONFIG_MEMBER(type, member, ctype)                               \
	(offsetof(type, member) +                                        \
	 0 * sizeof(char[__builtin_types_compatible_p(                   \
				 __typeof__(((type *)0)->member), ctype) \
				 ? 1                                     \
				 : -1]))

/*
 * Shorthands for the start of a table entry; add .required, ranges,
 * defaults and .doc after them:
 *
 *	static const struct config_field ep_fields[] = {
 *		{ CONFIG_F_STRING(struct ep, name, "name"), .required = true },
 *		{ CONFIG_F_INT(struct ep, max_inflight, "max_inflight"),
 *		  .min = 1, .max = 64, .def_int = 4 },
 *		{ CONFIG_F_STRMAP(struct ep, headers, "headers") },
 *		{ NULL }
 *	};
 */
#define CONFIG_F_STRING(t, m, k) \
	.key = (k), .type = CONFIG_STRING, .offset = CONFIG_MEMBER(t, m, char *)
#define CONFIG_F_BOOL(t, m, k) \
	.key = (k), .type = CONFIG_BOOL, .offset = CONFIG_MEMBER(t, m, bool)
#define CONFIG_F_INT(t, m, k) \
	.key = (k), .type = CONFIG_INT, .offset = CONFIG_MEMBER(t, m, int)
#define CONFIG_F_INT64(t, m, k) \
	.key = (k), .type = CONFIG_INT64, .offset = CONFIG_MEMBER(t, m, int64_t)
#define CONFIG_F_DOUBLE(t, m, k) \
	.key = (k), .type = CONFIG_DOUBLE, .offset = CONFIG_MEMBER(t, m, double)
#define CONFIG_F_DURATION(t, m, k)           \
	.key = (k), .type = CONFIG_DURATION, \
	.offset = CONFIG_MEMBER(t, m, int64_t)
#define CONFIG_F_STRLIST(t, m, k)           \
	.key = (k), .type = CONFIG_STRLIST, \
	.offset = CONFIG_MEMBER(t, m, struct config_strlist)
#define CONFIG_F_STRMAP(t, m, k)           \
	.key = (k), .type = CONFIG_STRMAP, \
	.offset = CONFIG_MEMBER(t, m, struct config_strmap)
#define CONFIG_F_ENUM(t, m, k, n)                                            \
	.key = (k), .type = CONFIG_ENUM, .offset = CONFIG_MEMBER(t, m, int), \
	.names = (n)
#define CONFIG_F_MAPPING(t, m, k, f)                                  \
	.key = (k), .type = CONFIG_MAPPING, .offset = offsetof(t, m), \
	.fields = (f)
#define CONFIG_F_SEQUENCE(t, m, k, f, et)                                \
	.key = (k), .type = CONFIG_SEQUENCE,                             \
	.offset = CONFIG_MEMBER(t, m, struct config_seq), .fields = (f), \
	.elem_size = sizeof(et)
#define CONFIG_F_CUSTOM(t, m, k, p, r)                               \
	.key = (k), .type = CONFIG_CUSTOM, .offset = offsetof(t, m), \
	.parse = (p), .release = (r)

/* The binder. */

/*
 * Set every field of 'fields' in 'obj' to its default, then bind the
 * mapping 'node' (NULL or a YAML null: no keys) into 'obj'.  'obj' must
 * start zeroed or released.  Unknown keys, wrong types, values out of
 * range and missing required keys are all reported, each as a line in
 * 'err' (which may be NULL); then -EINVAL is returned.  Whether it
 * succeeds or not, 'obj' is afterwards consistent and must be freed
 * with config_release().
 */
int config_bind(void *obj, const struct config_field *fields,
		const struct yamlnode *node, struct strbuf *err);

/* Free what config_bind() stored in 'obj' and zero those members. */
void config_release(void *obj, const struct config_field *fields);

/*
 * Scalar readers for CONFIG_CUSTOM callbacks, with the binder's
 * messages and positions.  Each returns 0 and writes '*out', or
 * reports into 'err' and returns -EINVAL leaving '*out' alone.
 * Ranges are inclusive; min == max == 0 means any value.
 */
int config_get_string(char **out, const struct yamlnode *node,
		      struct strbuf *err); /* '*out' is owned, non-empty */
int config_get_bool(bool *out, const struct yamlnode *node, struct strbuf *err);
int config_get_int64(int64_t *out, const struct yamlnode *node, int64_t min,
		     int64_t max, struct strbuf *err);
int config_get_double(double *out, const struct yamlnode *node, double min,
		      double max, struct strbuf *err);
int config_get_duration(int64_t *out_ms, const struct yamlnode *node,
			int64_t min_ms, int64_t max_ms, struct strbuf *err);
int config_get_enum(int *out, const struct yamlnode *node,
		    const char *const *names, struct strbuf *err);

/*
 * Parse a duration: one or more <digits><unit> with units ms, s, m,
 * h, d ("1h30m"), or a lone "0".  -EINVAL if malformed, -ERANGE on
 * overflow.
 */
int config_parse_duration(int64_t *out_ms, const char *s);
/* Append 'ms' in the shortest form config_parse_duration() reads. */
void config_format_duration(struct strbuf *sb, int64_t ms);

void config_strlist_release(struct config_strlist *l);
void config_strmap_release(struct config_strmap *m);
/* The value for 'key', or NULL.  Borrowed. */
const char *config_strmap_get(const struct config_strmap *m, const char *key);

/*
 * Match 'str' against a glob 'pattern' where '*' matches any run of
 * characters (no other metacharacters), ASCII case-insensitively, as
 * used for mail address patterns.  Linear in practice, never
 * exponential.
 */
bool config_glob_match(const char *pattern, const char *str);

/* The configuration. */

struct config_ingest {
	/*
	 * An incomplete series revision is marked stalled this long
	 * after its newest message arrived.
	 */
	int64_t stall_after_ms;
	/*
	 * Address patterns (config_glob_match()) whose mail is stored
	 * but never becomes a patch to review.
	 */
	struct config_strlist bot_senders;
	/* kreview's own sending address, or NULL; never reviewed. */
	char *own_address;
};

/* The review section: how series are reviewed. */
struct config_review {
	/* Endpoint name for every stage; NULL: the first endpoint. */
	char *endpoint;
	/* Stage id -> endpoint name overrides. */
	struct config_strmap stages;
	/* Passes over each patch (1..16, default 3). */
	int runs;
	/* Index into config_review_profiles: quick, standard, deep. */
	int profile;
	/* Run the verification prompt on surviving findings. */
	bool verify;
	/* Prompt directory; NULL: the installed (or source tree) set. */
	char *prompts;
	/* Subsystem rule directory; NULL: the installed (or source) set. */
	char *subsystems;
	/* Code context per patch, bytes. */
	int context_budget;
	/* Input tokens per series; 0: no budget (review_fit_budget()). */
	int64_t token_budget;
};

/* "quick", "standard", "deep", NULL. */
extern const char *const config_review_profiles[];

struct kreview_config {
	/*
	 * The file it was loaded from (the name given to
	 * config_load_buffer()); NULL when only defaults apply.
	 */
	char *path;
	/* Absolute; default $STATE_DIRECTORY, $XDG_STATE_HOME/kreview or
	 * ~/.local/state/kreview. */
	char *state_dir;
	/* Absolute; default <state_dir>/kreview.db. */
	char *database;
	struct config_ingest ingest;
	/* LLM endpoints (llm.h); NULL when none are configured. */
	struct llm_config *endpoints;
	struct config_review review;
	/* Reply policy per mailing list (reply.h); never NULL after
	 * loading. */
	struct reply_lists *lists;
	/* kreview's mail identity and delivery (outbox.h); never NULL
	 * after loading. */
	struct outbox_mail *mail;
	/* The per-subsystem bug databases (bugdb.h); NULL: defaults. */
	struct bugdb_config *bugs;
	/* The daemon: sources, concurrency, budgets (daemon.h); never NULL
	 * after loading. */
	struct daemon_config *daemon;
	/*
	 * Reserved, added by their modules through CONFIG_CUSTOM entries:
	 * lists, daemon.
	 */
};

/* The top-level schema, for kreview.yaml(5) and --help output. */
extern const struct config_field config_schema[];

/*
 * Load the configuration.  'path' NULL means $KREVIEW_CONFIG when set,
 * else the default search: $XDG_CONFIG_HOME/kreview/config.yaml, then
 * ~/.config/kreview/config.yaml; if neither exists the defaults apply
 * and that is not an error.  A 'path' given explicitly must exist.
 * Environment variables are read only for these default paths and
 * for the default state directory.  On success '*out' is a new config
 * freed with config_free(); on failure '*out' is untouched, the return
 * is a negative errno (-EINVAL for invalid contents, -ENOENT,
 * -E2BIG, ...) and 'err' holds one line per problem.
 */
int config_load(struct kreview_config **out, const char *path,
		struct strbuf *err);

/* The same from memory; 'name' is the file name used in messages. */
int config_load_buffer(struct kreview_config **out, const char *name,
		       const char *buf, size_t len, struct strbuf *err);

/* Free a config; NULL is fine. */
void config_free(struct kreview_config *cfg);

/* True if mail from 'address' is from a bot (ingest.bot_senders). */
bool config_is_bot_sender(const struct kreview_config *cfg,
			  const char *address);

#endif
