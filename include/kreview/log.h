/*
 * log.h - the logger, one of the two pieces of global state.
 *
 * One line per event on stderr: "kreview: <message>" on a terminal or
 * in a command, with the syslog priority prefix "<N>" instead when
 * stderr is the journal ($JOURNAL_STREAM).  Library-like modules do not
 * log; the command or job runner logs once, with the error.  Secrets
 * are never formatted into a log line.
 */
#ifndef KREVIEW_LOG_H
#define KREVIEW_LOG_H

#include "kreview/common.h"

enum log_level {
	LOG_LVL_ERR = 3,
	LOG_LVL_WARN = 4,
	LOG_LVL_NOTICE = 5,
	LOG_LVL_INFO = 6,
	LOG_LVL_DEBUG = 7,
};

/* Messages above 'level' are dropped; default LOG_LVL_NOTICE. */
void log_set_level(enum log_level level);
enum log_level log_get_level(void);
/* Detect the journal from $JOURNAL_STREAM; call once from main(). */
void log_setup(void);

KR_PRINTF(2, 3) void log_msg(enum log_level level, const char *fmt, ...);
#define log_error(...) log_msg(LOG_LVL_ERR, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_LVL_WARN, __VA_ARGS__)
#define log_notice(...) log_msg(LOG_LVL_NOTICE, __VA_ARGS__)
#define log_info(...) log_msg(LOG_LVL_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_LVL_DEBUG, __VA_ARGS__)

/*
 * Log at error level with ": <strerror(-r)>" appended and return 'r'
 * (a negative errno), so that "return log_errno(r, ...)" works.
 */
KR_PRINTF(2, 3) int log_errno(int r, const char *fmt, ...);

#endif
