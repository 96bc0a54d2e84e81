/*
 * The process clock: updated once per event-loop turn so handlers read a cached time,
 * with the formatted strings the logs and headers need.
 */
#ifndef MG_TIME_H
#define MG_TIME_H

#include "mg.h"

typedef struct {
    time_t sec;
    mg_msec_t msec;         /* wall clock in milliseconds */
    mg_msec_t monotonic;    /* for timers */
    /* sized with room for any int the formats may print, to keep the compiler sure */
    char err_log[64];
    char http[64];
    char local[64];
    char iso8601[64];
    char syslog[64]; /* RFC 3164's "Mmm dd hh:mm:ss", local time */
} mg_time_t;

extern MG_THREAD_LOCAL mg_time_t mg_now;

/* An event happened: refresh the clock, once per turn of the thread's loop (mg_time_turn) or
 * at every call where no loop marks turns (the master, helpers, a caller's attached base);
 * not at all under a resolution (timer_resolution), where only mg_time_refresh does, on a
 * timer of that interval, as nginx's clock then moves only on its SIGALRM. */
void mg_time_update(void);
/* mg_server_loop's mark before each turn, one event_base_loop(EVLOOP_ONCE): one wait, then
 * the callbacks of what it found (libevent waits again within it only before any callback ran,
 * or with a zero timeout). The turn's first mg_time_update refreshes the clock, the others
 * keep it, as nginx updates its time once after each wait. */
void mg_time_turn(void);
/* The loop stopped: every mg_time_update refreshes again. */
void mg_time_turns_end(void);
/* Refresh now, whatever the resolution (that timer, ngx.update_time()). */
void mg_time_refresh(void);
/* The monotonic clock in milliseconds, read now (not the loop turn's cached mg_now): for
 * the commands' bounded waits, which run no loop. */
mg_msec_t mg_time_monotonic_ms(void);
/* 0: refresh at every event (the default). */
void mg_time_set_resolution(mg_msec_t msec);
/* "Mon, 28 Sep 1970 06:00:00 GMT" into buf (32 bytes). */
void mg_time_http(char *buf, time_t t);
/* Parse an HTTP date (RFC 1123, RFC 850, asctime); -1 on error. */
time_t mg_time_parse_http(const char *s, size_t len);

#endif
