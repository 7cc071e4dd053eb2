/*
 * llm_json.c - bounded JSON parsing, answer extraction and the schema
 * validator for model output.
 */
#include "kreview/common.h"
#include "kreview/llm_json.h"

#include <json-c/json.h>
#include <math.h>

/* Failed candidate parses before extraction gives up (quadratic guard). */
#define EXTRACT_MAX_TRIES 4096

static bool is_ws(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

int llm_json_parse(struct json_object **out, const char *buf, size_t len,
		   struct strbuf *err)
{
	struct json_tokener *tok = NULL;
	struct json_object *o = NULL;
	enum json_tokener_error jerr;
	char *copy = NULL;
	size_t end;
	int ret = -EPROTO;

	if (len > LLM_JSON_MAX_LEN) {
		if (err)
			strbuf_addf(err, "JSON document too large (%zu bytes)",
				    len);
		return -E2BIG;
	}
	tok = json_tokener_new_ex(LLM_JSON_MAX_DEPTH);
	if (!tok)
		die("out of memory creating JSON tokener");
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT |
					    JSON_TOKENER_VALIDATE_UTF8);
	/* json-c wants the terminating NUL counted to finish numbers. */
	copy = xmemdupz(buf, len);
	o = json_tokener_parse_ex(tok, copy, (int)len + 1);
	jerr = json_tokener_get_error(tok);
	if (!o && jerr == json_tokener_success) {
		/* the literal null */
		end = json_tokener_get_parse_end(tok);
	} else if (jerr != json_tokener_success) {
		if (err)
			strbuf_addf(err, "invalid JSON at offset %zu: %s",
				    json_tokener_get_parse_end(tok),
				    json_tokener_error_desc(jerr));
		goto out;
	} else {
		end = json_tokener_get_parse_end(tok);
	}
	while (end < len && is_ws(copy[end]))
		end++;
	if (end < len && copy[end] != '\0') {
		if (err)
			strbuf_addf(err, "trailing data after JSON at offset %zu",
				    end);
		goto out;
	}
	if (end < len) {
		if (err)
			strbuf_addf(err, "NUL byte in JSON at offset %zu", end);
		goto out;
	}
	*out = o;
	o = NULL;
	ret = 0;
out:
	json_object_put(o);
	json_tokener_free(tok);
	free(copy);
	return ret;
}

/*
 * Try to parse one object starting at text[0]; return its length or 0.
 * Trailing text is fine.
 */
static size_t try_object(struct json_tokener *tok, const char *text,
			 size_t len)
{
	struct json_object *o;
	size_t end = 0;

	json_tokener_reset(tok);
	o = json_tokener_parse_ex(tok, text, (int)len);
	if (o && json_object_is_type(o, json_type_object) &&
	    json_tokener_get_error(tok) == json_tokener_success)
		end = json_tokener_get_parse_end(tok);
	json_object_put(o);
	return end;
}

int llm_json_extract(struct strbuf *out, const char *text, size_t len,
		     struct strbuf *err)
{
	struct json_tokener *tok;
	size_t best_off = 0, best_len = 0, i = 0;
	unsigned tries = 0;

	if (len > LLM_JSON_MAX_LEN) {
		if (err)
			strbuf_addf(err, "answer too large (%zu bytes)", len);
		return -E2BIG;
	}
	tok = json_tokener_new_ex(LLM_JSON_MAX_DEPTH);
	if (!tok)
		die("out of memory creating JSON tokener");
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT |
					    JSON_TOKENER_ALLOW_TRAILING_CHARS |
					    JSON_TOKENER_VALIDATE_UTF8);
	/*
	 * A forward scan keeps only top-level objects: after a success we
	 * continue behind it, so an inner object of the last answer never
	 * wins over the answer itself.  Fences and prose are skipped as
	 * text that does not start an object.
	 */
	while (i < len) {
		const char *p = memchr(text + i, '{', len - i);
		size_t n;

		if (!p)
			break;
		i = (size_t)(p - text);
		if (tries++ >= EXTRACT_MAX_TRIES)
			break;
		n = try_object(tok, text + i, len - i);
		if (n) {
			best_off = i;
			best_len = n;
			i += n;
		} else {
			i++;
		}
	}
	json_tokener_free(tok);
	if (!best_len) {
		if (err)
			strbuf_addstr(err, "no JSON object found in the answer");
		return -ENOENT;
	}
	/* the tokener may have consumed whitespace behind the object */
	while (best_len && is_ws(text[best_off + best_len - 1]))
		best_len--;
	strbuf_add(out, text + best_off, best_len);
	return 0;
}

/* ---- validator ---- */

static const char *type_name(struct json_object *v)
{
	switch (json_object_get_type(v)) {
	case json_type_null:
		return "null";
	case json_type_boolean:
		return "boolean";
	case json_type_double:
		return "number";
	case json_type_int:
		return "integer";
	case json_type_object:
		return "object";
	case json_type_array:
		return "array";
	case json_type_string:
		return "string";
	}
	return "unknown";
}

static bool type_matches(struct json_object *v, const char *want)
{
	enum json_type t = json_object_get_type(v);

	if (!strcmp(want, "number"))
		return t == json_type_int || t == json_type_double;
	if (!strcmp(want, "integer")) {
		double d;

		if (t == json_type_int)
			return true;
		if (t != json_type_double)
			return false;
		d = json_object_get_double(v);
		return isfinite(d) && d == floor(d);
	}
	return !strcmp(want, type_name(v));
}

static void fail_at(struct strbuf *err, const struct strbuf *path,
		    const char *fmt, ...) KR_PRINTF(3, 4);
static void fail_at(struct strbuf *err, const struct strbuf *path,
		    const char *fmt, ...)
{
	va_list ap;

	if (!err)
		return;
	strbuf_addf(err, "%s: ", path->buf);
	va_start(ap, fmt);
	strbuf_vaddf(err, fmt, ap);
	va_end(ap);
}

static bool json_equal(struct json_object *a, struct json_object *b)
{
	return json_object_equal(a, b) != 0;
}

static int get_num(struct json_object *schema, const char *key, double *out)
{
	struct json_object *v;

	if (!json_object_object_get_ex(schema, key, &v))
		return 0;
	if (!json_object_is_type(v, json_type_int) &&
	    !json_object_is_type(v, json_type_double))
		return 0;
	*out = json_object_get_double(v);
	return 1;
}

/* Number of code points, for minLength/maxLength. */
static size_t utf8_len(const char *s, size_t n)
{
	size_t cnt = 0;

	for (size_t i = 0; i < n; i++)
		if (((unsigned char)s[i] & 0xc0) != 0x80)
			cnt++;
	return cnt;
}

static int validate(struct json_object *v, struct json_object *schema,
		    struct strbuf *path, unsigned depth, struct strbuf *err);

static int validate_object(struct json_object *v, struct json_object *schema,
			   struct strbuf *path, unsigned depth,
			   struct strbuf *err)
{
	struct json_object *props = NULL, *req, *addl = NULL;
	size_t plen = path->len;
	int ret;

	json_object_object_get_ex(schema, "properties", &props);
	if (props && !json_object_is_type(props, json_type_object))
		props = NULL;
	if (json_object_object_get_ex(schema, "required", &req) &&
	    json_object_is_type(req, json_type_array)) {
		size_t n = json_object_array_length(req);

		for (size_t i = 0; i < n; i++) {
			struct json_object *k = json_object_array_get_idx(req, i);
			const char *key = json_object_get_string(k);

			if (!json_object_is_type(k, json_type_string))
				continue;
			if (!json_object_object_get_ex(v, key, NULL)) {
				fail_at(err, path,
					"missing required property \"%s\"",
					key);
				return -EINVAL;
			}
		}
	}
	json_object_object_get_ex(schema, "additionalProperties", &addl);
	json_object_object_foreach(v, key, val)
	{
		struct json_object *sub = NULL;

		strbuf_addf(path, ".%s", key);
		if (props && json_object_object_get_ex(props, key, &sub)) {
			ret = validate(val, sub, path, depth + 1, err);
		} else if (addl && json_object_is_type(addl, json_type_boolean)) {
			ret = 0;
			if (!json_object_get_boolean(addl)) {
				strbuf_setlen(path, plen);
				fail_at(err, path,
					"unexpected property \"%s\"", key);
				ret = -EINVAL;
			}
		} else if (addl && json_object_is_type(addl, json_type_object)) {
			ret = validate(val, addl, path, depth + 1, err);
		} else {
			ret = 0;
		}
		strbuf_setlen(path, plen);
		if (ret < 0)
			return ret;
	}
	return 0;
}

static int validate(struct json_object *v, struct json_object *schema,
		    struct strbuf *path, unsigned depth, struct strbuf *err)
{
	struct json_object *t, *en, *items;
	double lim;

	if (depth > LLM_JSON_MAX_DEPTH) {
		fail_at(err, path, "nesting too deep");
		return -EINVAL;
	}
	if (!json_object_is_type(schema, json_type_object))
		return 0; /* "true" schema and the like */

	if (json_object_object_get_ex(schema, "type", &t)) {
		bool ok = false;

		if (json_object_is_type(t, json_type_string)) {
			ok = type_matches(v, json_object_get_string(t));
		} else if (json_object_is_type(t, json_type_array)) {
			size_t n = json_object_array_length(t);

			for (size_t i = 0; i < n && !ok; i++) {
				struct json_object *e =
					json_object_array_get_idx(t, i);

				ok = json_object_is_type(e, json_type_string) &&
				     type_matches(v, json_object_get_string(e));
			}
		} else {
			ok = true;
		}
		if (!ok) {
			fail_at(err, path, "expected %s, got %s",
				json_object_get_string(t), type_name(v));
			return -EINVAL;
		}
	}

	if (json_object_object_get_ex(schema, "enum", &en) &&
	    json_object_is_type(en, json_type_array)) {
		size_t n = json_object_array_length(en);
		bool found = false;

		for (size_t i = 0; i < n && !found; i++)
			found = json_equal(v, json_object_array_get_idx(en, i));
		if (!found) {
			fail_at(err, path, "value %s not in enum %s",
				json_object_to_json_string_ext(
					v, JSON_C_TO_STRING_PLAIN |
						   JSON_C_TO_STRING_NOSLASHESCAPE),
				json_object_to_json_string_ext(
					en, JSON_C_TO_STRING_PLAIN |
						    JSON_C_TO_STRING_NOSLASHESCAPE));
			return -EINVAL;
		}
	}

	switch (json_object_get_type(v)) {
	case json_type_int:
	case json_type_double: {
		double d = json_object_get_double(v);

		if (!isfinite(d)) {
			fail_at(err, path, "number is not finite");
			return -EINVAL;
		}
		if (get_num(schema, "minimum", &lim) && d < lim) {
			fail_at(err, path, "%g is below the minimum %g", d, lim);
			return -EINVAL;
		}
		if (get_num(schema, "maximum", &lim) && d > lim) {
			fail_at(err, path, "%g is above the maximum %g", d, lim);
			return -EINVAL;
		}
		break;
	}
	case json_type_string: {
		const char *s = json_object_get_string(v);
		size_t n = (size_t)json_object_get_string_len(v);

		if (strlen(s) != n) {
			fail_at(err, path, "string contains a NUL character");
			return -EINVAL;
		}
		if (get_num(schema, "minLength", &lim) &&
		    (double)utf8_len(s, n) < lim) {
			fail_at(err, path, "string shorter than %g", lim);
			return -EINVAL;
		}
		if (get_num(schema, "maxLength", &lim) &&
		    (double)utf8_len(s, n) > lim) {
			fail_at(err, path, "string longer than %g", lim);
			return -EINVAL;
		}
		break;
	}
	case json_type_array: {
		size_t n = json_object_array_length(v), plen = path->len;

		if (get_num(schema, "minItems", &lim) && (double)n < lim) {
			fail_at(err, path, "fewer than %g items", lim);
			return -EINVAL;
		}
		if (get_num(schema, "maxItems", &lim) && (double)n > lim) {
			fail_at(err, path, "more than %g items", lim);
			return -EINVAL;
		}
		if (!json_object_object_get_ex(schema, "items", &items))
			break;
		for (size_t i = 0; i < n; i++) {
			int ret;

			strbuf_addf(path, "[%zu]", i);
			ret = validate(json_object_array_get_idx(v, i), items,
				       path, depth + 1, err);
			strbuf_setlen(path, plen);
			if (ret < 0)
				return ret;
		}
		break;
	}
	case json_type_object:
		return validate_object(v, schema, path, depth, err);
	default:
		break;
	}
	return 0;
}

int llm_json_validate(struct json_object *value, struct json_object *schema,
		      struct strbuf *err)
{
	struct strbuf path = STRBUF_INIT;
	int ret;

	strbuf_addch(&path, '$');
	ret = validate(value, schema, &path, 0, err);
	strbuf_release(&path);
	return ret;
}

int llm_json_validate_text(const char *value, const char *schema,
			   struct strbuf *err)
{
	struct json_object *v = NULL, *s = NULL;
	int ret;

	ret = llm_json_parse(&s, schema, strlen(schema), err);
	if (ret < 0) {
		if (err)
			strbuf_addstr(err, " (in the schema)");
		ret = -EINVAL;
		goto out;
	}
	ret = llm_json_parse(&v, value, strlen(value), err);
	if (ret < 0) {
		ret = -EINVAL;
		goto out;
	}
	ret = llm_json_validate(v, s, err);
out:
	json_object_put(v);
	json_object_put(s);
	return ret;
}

void llm_json_add(struct strbuf *out, struct json_object *o)
{
	size_t n = 0;
	const char *s = json_object_to_json_string_length(
		o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &n);

	strbuf_add(out, s, n);
}
