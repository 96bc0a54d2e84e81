/*
 * Cached wall and monotonic clocks; strings are rebuilt only when the second changes.
 */
#include <sys/time.h>

#include "mgtime.h"
#include "str.h"

MG_THREAD_LOCAL mg_time_t mg_now;

static const char *week[] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };
static const char *months[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };

static char *two_digits(char *p, int v)
{
    *p++ = (char)('0' + v / 10);
    *p++ = (char)('0' + v % 10);
    return p;
}

/* The UTC fields mg_time_http prints, by arithmetic: glibc's gmtime_r goes through its time
 * zone code under a lock, ~300 instructions per call (a third of the rest of a small static
 * response's cost). Days since the epoch to a date counted in 400-year eras from March 1st of
 * year 0, so that leap days fall at the end of a year (H. Hinnant's civil_from_days). */
static void utc_fields(time_t t, struct tm *tm)
{
    int64_t days = t / 86400, secs = t % 86400;
    if (secs < 0) {
        secs += 86400;
        days--;
    }
    tm->tm_hour = (int)(secs / 3600);
    tm->tm_min = (int)(secs / 60 % 60);
    tm->tm_sec = (int)(secs % 60);
    tm->tm_wday = (int)((days % 7 + 11) % 7); /* 1970-01-01 was a Thursday */
    int64_t z = days + 719468;                /* days since 0000-03-01 */
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;                                      /* [0, 146096] */
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365; /* [0, 399] */
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);               /* [0, 365] */
    int64_t mp = (5 * doy + 2) / 153;                                    /* March is 0 */
    tm->tm_mday = (int)(doy - (153 * mp + 2) / 5 + 1);
    tm->tm_mon = (int)(mp < 10 ? mp + 2 : mp - 10);
    tm->tm_year = (int)(yoe + era * 400 + (tm->tm_mon < 2) - 1900);
}

/* "Thu, 18 Nov 2010 11:27:35 GMT" by hand: a file's Last-Modified is formatted per response,
 * and snprintf cost more than the rest of a small static response's header */
static void format_http(char *buf, time_t t)
{
    struct tm tm;
    utc_fields(t, &tm);
    int year = tm.tm_year + 1900;
    if (year < 1000 || year > 9999) {
        snprintf(buf, 32, "%s, %02d %s %4d %02d:%02d:%02d GMT", week[tm.tm_wday], tm.tm_mday,
                 months[tm.tm_mon], year, tm.tm_hour, tm.tm_min, tm.tm_sec);
        return;
    }
    char *p = buf;
    memcpy(p, week[tm.tm_wday], 3);
    p += 3;
    *p++ = ',';
    *p++ = ' ';
    p = two_digits(p, tm.tm_mday);
    *p++ = ' ';
    memcpy(p, months[tm.tm_mon], 3);
    p += 3;
    *p++ = ' ';
    p = two_digits(p, year / 100);
    p = two_digits(p, year % 100);
    *p++ = ' ';
    p = two_digits(p, tm.tm_hour);
    *p++ = ':';
    p = two_digits(p, tm.tm_min);
    *p++ = ':';
    p = two_digits(p, tm.tm_sec);
    memcpy(p, " GMT", 5);
}

/* The last time mg_time_http formatted on this thread: the same file served again has the
 * same Last-Modified, a copy instead of ~230 instructions of arithmetic */
static MG_THREAD_LOCAL struct {
    int valid;
    time_t t;
    char text[32];
} last_http;

void mg_time_http(char *buf, time_t t)
{
    if (!last_http.valid || last_http.t != t) {
        format_http(last_http.text, t);
        last_http.t = t;
        last_http.valid = 1;
    }
    memcpy(buf, last_http.text, sizeof(last_http.text));
}

/* timer_resolution: the setting of the server whose loop runs on this thread */
static MG_THREAD_LOCAL mg_msec_t resolution;

void mg_time_set_resolution(mg_msec_t msec)
{
    resolution = msec;
}

/* the clock against the loop's turns: no loop marks them (refresh at every update), a turn
 * began (the next update refreshes), the clock was refreshed in this turn */
enum { TURN_NONE, TURN_NEW, TURN_FRESH };
static MG_THREAD_LOCAL int turn;

void mg_time_turn(void)
{
    turn = TURN_NEW;
}

void mg_time_turns_end(void)
{
    turn = TURN_NONE;
}

/* Each event's handler calls here (a socket's watch, a connection's read, a timer...), so
 * one turn that serves many calls it as often: all but the first cost a compare. */
void mg_time_update(void)
{
    if (turn == TURN_FRESH || (resolution && mg_now.sec)) {
        return;
    }
    if (turn == TURN_NEW) {
        turn = TURN_FRESH;
    }
    mg_time_refresh();
}

mg_msec_t mg_time_monotonic_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (mg_msec_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void mg_time_refresh(void)
{
    mg_now.monotonic = mg_time_monotonic_ms();
    struct timeval tv;
    gettimeofday(&tv, NULL);
    mg_now.msec = (mg_msec_t)tv.tv_sec * 1000 + tv.tv_usec / 1000;
    if (tv.tv_sec == mg_now.sec && mg_now.http[0]) {
        return;
    }
    mg_now.sec = tv.tv_sec;
    format_http(mg_now.http, tv.tv_sec); /* (not through the cache: it holds a file's date) */
    struct tm tm;
    localtime_r(&mg_now.sec, &tm);
    long off = tm.tm_gmtoff / 60;
    char sign = off < 0 ? '-' : '+';
    if (off < 0) {
        off = -off;
    }
    snprintf(mg_now.err_log, sizeof(mg_now.err_log), "%4d/%02d/%02d %02d:%02d:%02d",
             tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
    snprintf(mg_now.local, sizeof(mg_now.local), "%02d/%s/%d:%02d:%02d:%02d %c%02ld%02ld",
             tm.tm_mday, months[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec,
             sign, off / 60, off % 60);
    snprintf(mg_now.iso8601, sizeof(mg_now.iso8601), "%4d-%02d-%02dT%02d:%02d:%02d%c%02ld:%02ld",
             tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
             sign, off / 60, off % 60);
    snprintf(mg_now.syslog, sizeof(mg_now.syslog), "%s %2d %02d:%02d:%02d", months[tm.tm_mon],
             tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

/*
 * nginx tells months apart by the fewest letters it can: the first, and for J, M and A one
 * more ("Jux" is July, "Mxy" May, "Axy" August). Case-sensitive. -1 if none fits.
 */
static int parse_month(const char *p)
{
    switch (p[0]) {
    case 'J':
        return p[1] == 'a' ? 0 : p[2] == 'n' ? 5 : 6;
    case 'F':
        return 1;
    case 'M':
        return p[2] == 'r' ? 2 : 4;
    case 'A':
        return p[1] == 'p' ? 3 : 7;
    case 'S':
        return 8;
    case 'O':
        return 9;
    case 'N':
        return 10;
    case 'D':
        return 11;
    }
    return -1;
}

/* n decimal digits at *p (advanced past them); -1 if any is missing */
static int digits(const char **p, const char *end, int n)
{
    int v = 0;
    for (int i = 0; i < n; i++, (*p)++) {
        if (*p >= end || **p < '0' || **p > '9') {
            return -1;
        }
        v = v * 10 + (**p - '0');
    }
    return v;
}

static int expect(const char **p, const char *end, char c)
{
    if (*p >= end || **p != c) {
        return 0;
    }
    (*p)++;
    return 1;
}

/*
 * nginx's rules, byte for byte: the text up to the first ',' or ' ' is the weekday and is not
 * checked; ',' means "18 Nov 2010" or "18-Nov-10", ' ' the asctime "Nov  8 11:27:35 2010".
 * Fields have fixed widths, months are case-sensitive, whatever follows is ignored (the
 * zone too), day 0 is accepted and 31 Feb is not; dates before 1970 give negative times.
 */
time_t mg_time_parse_http(const char *s, size_t len)
{
    const char *p = s, *end = s + len;
    while (p < end && *p != ',' && *p != ' ') {
        p++;
    }
    if (p == end) {
        return -1;
    }
    int asctime = *p++ == ' ';
    while (p < end && *p == ' ') {
        p++;
    }
    int day, mon, year = 0, hour, min, sec;
    if (!asctime) {
        day = digits(&p, end, 2);
        if (day < 0 || p >= end || (*p != ' ' && *p != '-')) {
            return -1;
        }
        char sep = *p++; /* ' ' RFC 1123, '-' RFC 850 */
        if (end - p < 3 || (mon = parse_month(p)) < 0) {
            return -1;
        }
        p += 3;
        if (!expect(&p, end, sep)) {
            return -1;
        }
        year = digits(&p, end, sep == ' ' ? 4 : 2);
        if (year < 0) {
            return -1;
        }
        if (sep == '-') {
            year += year < 70 ? 2000 : 1900;
        }
    } else {
        if (end - p < 3 || (mon = parse_month(p)) < 0) {
            return -1;
        }
        p += 3;
        if (p == end) {
            return -1;
        }
        p++; /* nginx does not look at the byte after the month */
        expect(&p, end, ' ');
        /* "Nov  8", "Nov 8" or "Nov 08" */
        day = digits(&p, end, 1);
        if (day < 0) {
            return -1;
        }
        if (p < end && *p >= '0' && *p <= '9') {
            day = day * 10 + (*p++ - '0');
        }
    }
    if (!expect(&p, end, ' ') || (hour = digits(&p, end, 2)) < 0 || !expect(&p, end, ':') ||
        (min = digits(&p, end, 2)) < 0 || !expect(&p, end, ':') ||
        (sec = digits(&p, end, 2)) < 0) {
        return -1;
    }
    if (asctime && (!expect(&p, end, ' ') || (year = digits(&p, end, 4)) < 0)) {
        return -1;
    }
    static const int mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    int leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    if (hour > 23 || min > 59 || sec > 59 || day > mdays[mon] || (mon == 1 && day == 29 && !leap)) {
        return -1;
    }
    struct tm tm = {
        .tm_year = year - 1900, .tm_mon = mon, .tm_mday = day,
        .tm_hour = hour, .tm_min = min, .tm_sec = sec,
    };
    return timegm(&tm); /* day 0 is the month's eve, as nginx's day count makes it */
}
