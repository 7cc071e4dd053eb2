/*
 * llm_priv.h - shared between the files of daemon/llm only: the
 * dialect function table and small json-c helpers.
 */
#ifndef KREVIEW_LLM_PRIV_H
#define KREVIEW_LLM_PRIV_H

#include "kreview/llm.h"
#include "kreview/llm_json.h"

#include <json-c/json.h>

struct llm_dialect_ops {
	int (*encode)(struct llm_http *h, const struct llm_endpoint *ep,
		      const char *key, const struct llm_request *req,
		      struct strbuf *err);
	int (*decode)(struct llm_response *out, struct json_object *root,
		      struct strbuf *err);
	/* Refine 'out' (pre-classified by status) from the parsed body. */
	void (*classify)(struct llm_error_info *out, long status,
			 struct json_object *root);
	/* Name of the header carrying the request id, or NULL. */
	const char *request_id_header;
};

extern const struct llm_dialect_ops llm_openai_ops;
extern const struct llm_dialect_ops llm_anthropic_ops;
extern const struct llm_dialect_ops llm_gemini_ops;

/* ---- json helpers (llm_dialect.c) ---- */

/* Borrowed member of 'o' of type 't', or NULL. */
struct json_object *llm_jget(struct json_object *o, const char *key,
			     enum json_type t);
/* Borrowed string member or NULL (embedded NULs refused). */
const char *llm_jstr(struct json_object *o, const char *key);
/* Non-negative integer member, or 0. */
uint64_t llm_ju64(struct json_object *o, const char *key);
/* New string object; NULL 's' gives JSON null. */
struct json_object *llm_jnew_str(const char *s);
/* Number with a short decimal form (0.2, not 0.20000000000000001). */
struct json_object *llm_jnew_double(double d);
/* Parse schema/args text that must be an object; -EINVAL with 'what'. */
int llm_jparse_object(struct json_object **out, const char *text,
		      const char *what, struct strbuf *err);
/* Add "Name: value" to an encoded request. */
void llm_http_add_header(struct llm_http *h, const char *fmt, ...)
	KR_PRINTF(2, 3);
/* Common headers: content type, extra endpoint headers, mock scenario. */
void llm_http_common_headers(struct llm_http *h, const struct llm_endpoint *ep,
			     const struct llm_request *req);
/* base + suffix without a doubled slash. */
char *llm_url_join(const char *base, const char *suffix);
/* Serialise 'root' into h->body and drop it. */
void llm_http_set_body(struct llm_http *h, struct json_object *root);
/* Set the message of 'e' from provider text: capped, control chars gone. */
void llm_error_set_message(struct llm_error_info *e, const char *msg);
/* Case-insensitive substring. */
bool llm_contains(const char *hay, const char *needle);
/* Output cap to send. */
uint32_t llm_max_tokens(const struct llm_endpoint *ep,
			const struct llm_request *req);
/* Sampling to send after endpoint suppression. */
bool llm_send_temperature(const struct llm_endpoint *ep,
			  const struct llm_request *req);
bool llm_send_top_p(const struct llm_endpoint *ep,
		    const struct llm_request *req);
bool llm_send_seed(const struct llm_endpoint *ep,
		   const struct llm_request *req);

#endif
