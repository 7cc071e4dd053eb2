/* libFuzzer target for subject_parse() and subject_normalise_title(). */
#include "kreview/strbuf.h"
#include "kreview/subject.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct subject s = SUBJECT_INIT;
	struct strbuf sb = STRBUF_INIT;
	char *str;

	/* Subjects are C strings: parse up to the first NUL. */
	str = xmemdupz(data, size);
	subject_parse(&s, str);
	if (!s.title || s.revision < 1 || s.counter > s.expected ||
	    s.prefixes_nr > SUBJECT_MAX_PREFIXES ||
	    s.tags_nr > s.prefixes_nr || strlen(s.title) > SUBJECT_MAX_LEN)
		BUG("subject invariant broken");
	subject_normalise_title(&sb, s.title);
	/* Parsing twice into the same struct must not leak. */
	subject_parse(&s, s.title);
	subject_release(&s);
	strbuf_release(&sb);
	free(str);
	return 0;
}
