/*
 * Cached wall and monotonic clocks; strings are rebuilt only when the second changes.
 */
#include <sys/time.h>

#include "mgtime.h"
#include "str.h"

mg_time_t mg_now;

static const char *week[] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };
static const char *months[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };

void mg_time_http(char *buf, time_t t)
{
    struct tm tm;
    gmtime_r(&t, &tm);
    snprintf(buf, 32, "%s, %02d %s %4d %02d:%02d:%02d GMT", week[tm.tm_wday], tm.tm_mday,
             months[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

void mg_time_update(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    mg_now.monotonic = (mg_msec_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
    struct timeval tv;
    gettimeofday(&tv, NULL);
    mg_now.msec = (mg_msec_t)tv.tv_sec * 1000 + tv.tv_usec / 1000;
    if (tv.tv_sec == mg_now.sec && mg_now.http[0]) {
        return;
    }
    mg_now.sec = tv.tv_sec;
    mg_time_http(mg_now.http, tv.tv_sec);
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
}

static int parse_month(const char *p)
{
    for (int i = 0; i < 12; i++) {
        if (memcmp(p, months[i], 3) == 0) {
            return i;
        }
    }
    return -1;
}

time_t mg_time_parse_http(const char *s, size_t len)
{
    char buf[64];
    if (len >= sizeof(buf)) {
        return -1;
    }
    memcpy(buf, s, len);
    buf[len] = '\0';
    int day, year, hour, min, sec;
    char mon[4];
    struct tm tm;
    const char *comma = memchr(buf, ',', len);
    if (comma && sscanf(comma + 1, " %2d %3s %4d %2d:%2d:%2d", &day, mon, &year, &hour, &min,
                        &sec) == 6) {
        /* RFC 1123 */
    } else if (comma && sscanf(comma + 1, " %2d-%3s-%2d %2d:%2d:%2d", &day, mon, &year, &hour,
                               &min, &sec) == 6) {
        year += year < 70 ? 2000 : 1900; /* RFC 850 */
    } else if (!comma && sscanf(buf, "%*3s %3s %2d %2d:%2d:%2d %4d", mon, &day, &hour, &min,
                                &sec, &year) == 6) {
        /* asctime */
    } else {
        return -1;
    }
    mon[3] = '\0';
    int m = parse_month(mon);
    if (m < 0 || day < 1 || day > 31 || hour > 23 || min > 59 || sec > 60 || year < 1970) {
        return -1;
    }
    memset(&tm, 0, sizeof(tm));
    tm.tm_year = year - 1900;
    tm.tm_mon = m;
    tm.tm_mday = day;
    tm.tm_hour = hour;
    tm.tm_min = min;
    tm.tm_sec = sec;
    return timegm(&tm);
}
