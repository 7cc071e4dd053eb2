/*
 * Fuzz the parser of the bug verifier's answer (bugverify_parse()):
 * model text that should hold {"verdict": ..., "reason": ...}.  The
 * reason it keeps must be one line without control characters and
 * within its cap, whatever the input.
 */
#include "kreview/common.h"
#include "kreview/bugverify.h"
#include "kreview/strbuf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct strbuf reason = STRBUF_INIT, err = STRBUF_INIT;
	enum bugverify_verdict v;

	if (size > (1u << 20))
		return 0;
	if (bugverify_parse(&v, &reason, (const char *)data, size, &err) == 0) {
		if ((unsigned)v >= BUGVERIFY_VERDICT_MAX ||
		    reason.len > BUGVERIFY_MAX_REASON + 3 || !reason.len)
			abort();
		for (size_t i = 0; i < reason.len; i++)
			if ((unsigned char)reason.buf[i] < 0x20)
				abort();
	}
	strbuf_release(&reason);
	strbuf_release(&err);
	return 0;
}
