/* The logger: see log.h. */
#include "kreview/log.h"

#include <sys/stat.h>
#include <unistd.h>

static enum log_level max_level = LOG_LVL_NOTICE;
static bool to_journal;

void log_set_level(enum log_level level)
{
	max_level = level;
}

enum log_level log_get_level(void)
{
	return max_level;
}

void log_setup(void)
{
	const char *js = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;
	char *end;

	to_journal = false;
	if (!js || fstat(STDERR_FILENO, &st) < 0)
		return;
	dev = strtoull(js, &end, 10);
	if (*end != ':')
		return;
	ino = strtoull(end + 1, &end, 10);
	if (*end)
		return;
	to_journal = dev == (unsigned long long)st.st_dev &&
		     ino == (unsigned long long)st.st_ino;
}

KR_PRINTF(3, 0) static void log_vmsg(enum log_level level, int errnum,
				     const char *fmt, va_list ap)
{
	char line[4096];
	int n;

	if (level > max_level)
		return;
	n = vsnprintf(line, sizeof(line), fmt, ap);
	if (n < 0)
		return;
	if (errnum)
		snprintf(line + strlen(line), sizeof(line) - strlen(line),
			 ": %s", strerror(errnum));
	if (to_journal)
		fprintf(stderr, "<%d>%s\n", (int)level, line);
	else if (level == LOG_LVL_WARN)
		fprintf(stderr, "kreview: warning: %s\n", line);
	else if (level == LOG_LVL_ERR)
		fprintf(stderr, "kreview: error: %s\n", line);
	else
		fprintf(stderr, "kreview: %s\n", line);
}

void log_msg(enum log_level level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(level, 0, fmt, ap);
	va_end(ap);
}

int log_errno(int r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(LOG_LVL_ERR, r < 0 ? -r : r, fmt, ap);
	va_end(ap);
	return r;
}
