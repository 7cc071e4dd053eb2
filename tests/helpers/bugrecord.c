/*
 * bugrecord DIR SECTION JSON: record the findings of the JSON file (an
 * array of objects with title, file, function, category, severity,
 * evidence, explanation, line, end_line, code_commit) as pre-existing
 * bugs of SECTION in the bug databases under DIR, without admission
 * policy, and print each bug's id on its own line.  A fixture builder
 * for the bug integration tests.
 */
#include "kreview/bugdb.h"
#include "kreview/hash.h"
#include "kreview/llm_json.h"
#include "kreview/strbuf.h"

#include <json-c/json.h>

static const char *str(struct json_object *o, const char *key)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, key, &v) ||
	    !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

static int num(struct json_object *o, const char *key)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, key, &v))
		return 0;
	return json_object_get_int(v);
}

int main(int argc, char **argv)
{
	struct strbuf raw = STRBUF_INIT, err = STRBUF_INIT, path = STRBUF_INIT;
	struct json_object *root = NULL;
	struct bugdb *db = NULL;
	int ret = 1;

	if (argc != 4) {
		fprintf(stderr, "usage: bugrecord DIR SECTION JSON\n");
		return 2;
	}
	if (strbuf_read_file(&raw, argv[3], 1 << 20) < 0 ||
	    llm_json_parse(&root, raw.buf, raw.len, &err) < 0 ||
	    !json_object_is_type(root, json_type_array)) {
		fprintf(stderr, "bugrecord: '%s' is not a JSON array %s\n",
			argv[3], err.buf);
		goto out;
	}
	bugdb_path(&path, argv[1], argv[2]);
	if (bugdb_open(&db, path.buf, argv[2], &err) < 0) {
		fprintf(stderr, "bugrecord: %s\n", err.buf);
		goto out;
	}
	for (size_t i = 0; i < json_object_array_length(root); i++) {
		struct json_object *o = json_object_array_get_idx(root, i);
		struct bugdb_finding f = { 0 };
		enum bugdb_admission what;
		char id[BUGDB_ID_MAX], fp[HASH_HEX + 1];
		const char *title = str(o, "title");

		if (!title || finding_severity_parse(&f.severity,
						     str(o, "severity") ?
							     str(o, "severity") :
							     "high") < 0) {
			fprintf(stderr, "bugrecord: finding %zu: no title or a "
					"bad severity\n", i);
			goto out;
		}
		hash_git_blob(fp, title, strlen(title));
		f.fingerprint = fp;
		f.title = title;
		f.file = str(o, "file");
		f.function = str(o, "function") ? str(o, "function") : "";
		f.category = str(o, "category") ? str(o, "category") : "logic";
		f.evidence = str(o, "evidence");
		f.explanation = str(o, "explanation");
		f.line = num(o, "line");
		f.end_line = num(o, "end_line");
		f.code_commit = str(o, "code_commit");
		f.confidence = 0.8;
		f.support = f.runs = 1;
		f.pre_existing = true;
		f.review = "fixture";
		if (bugdb_admit(&what, id, db, &f, NULL, &err) < 0) {
			fprintf(stderr, "bugrecord: %s\n", err.buf);
			goto out;
		}
		printf("%s\n", id);
	}
	ret = 0;
out:
	json_object_put(root);
	bugdb_close(db);
	strbuf_release(&raw);
	strbuf_release(&err);
	strbuf_release(&path);
	return ret;
}
