/*
 * llm_json.h - JSON written by models and providers: bounded parsing,
 * tolerant extraction of an answer object, and a validator for the
 * subset of JSON Schema kreview uses.
 *
 * Everything parsed here is untrusted: nesting depth is capped, input
 * length is capped below INT_MAX (json-c takes an int length), strings
 * with embedded NULs are rejected by the validator.  json-c objects are
 * opaque to callers outside daemon/llm: functions that return a tree
 * return it as 'struct json_object *' owned by the caller (put with
 * json_object_put()).
 */
#ifndef KREVIEW_LLM_JSON_H
#define KREVIEW_LLM_JSON_H

#include "kreview/common.h"
#include "kreview/strbuf.h"

struct json_object;

#define LLM_JSON_MAX_DEPTH 64
#define LLM_JSON_MAX_LEN (64u << 20)

/*
 * Parse exactly one JSON document filling all of 'buf' (whitespace
 * around it allowed), strictly.  -EPROTO with a message naming the
 * offset on failure, -E2BIG over LLM_JSON_MAX_LEN.
 */
int llm_json_parse(struct json_object **out, const char *buf, size_t len,
		   struct strbuf *err);

/*
 * Find the model's answer object in free text: strip Markdown code
 * fences and surrounding prose, and take the last top-level JSON object
 * that parses.  'out' gets the object's text exactly as it appeared.
 * -ENOENT with a message if there is none.
 */
int llm_json_extract(struct strbuf *out, const char *text, size_t len,
		     struct strbuf *err);

/*
 * Validate 'value' against 'schema' (both parsed).  Supported keywords:
 * type (object, array, string, integer, number, boolean, null, or a list
 * of them), properties, required, additionalProperties (false or a
 * schema), items, enum, minimum, maximum, minLength, maxLength,
 * minItems, maxItems.  Unknown keywords are ignored.  -EINVAL with the
 * first violation and its JSON path ("$.findings[2].line: ...") in
 * 'err'.
 */
int llm_json_validate(struct json_object *value, struct json_object *schema,
		      struct strbuf *err);

/* Same for texts; schema parse errors are -EINVAL too. */
int llm_json_validate_text(const char *value, const char *schema,
			   struct strbuf *err);

/*
 * Serialise without slash escaping, compact.  The text is appended to
 * 'out'.
 */
void llm_json_add(struct strbuf *out, struct json_object *o);

#endif
