/*
 * Logging to syslog (RFC 3164 over UDP or a unix datagram socket), for error_log and
 * access_log "syslog:server=ADDR[,facility=F][,severity=S][,tag=T][,nohostname]": each message
 * is one datagram "<PRI>Mmm dd hh:mm:ss HOSTNAME TAG: MESSAGE", as nginx sends it.
 */
#ifndef MG_SYSLOG_H
#define MG_SYSLOG_H

#include <sys/socket.h>

#include "log.h"
#include "mg.h"

/* the longest header: "<191>Mmm dd hh:mm:ss " + a host name + " " + a 32-byte tag + ": " */
#define MG_SYSLOG_HEADER_MAX (sizeof("<191>Jan 01 00:00:00 ") - 1 + 256 + 1 + 32 + 2)
/* an error_log message is cut here, as nginx's are (its 2048-byte line less the newline) */
#define MG_SYSLOG_ERROR_MAX 2047

typedef struct {
    int facility;
    int severity; /* access_log's; an error_log message's follows its level */
    mg_str_t tag;
    unsigned nohostname : 1;
    unsigned busy : 1; /* sending: what it logs about itself must not come back to it */
    struct sockaddr_storage addr;
    socklen_t addrlen;
    char name[128];    /* "127.0.0.1:514", "unix:/dev/log": for the context of its errors */
    int fd;            /* opened at the first message, in the process that sends */
    mg_cycle_t *cycle; /* its host name, and the error log its failures go to */
} mg_syslog_peer_t;

/* Parse what follows "syslog:" in cf->args[1] into a new peer of the cycle (its socket is
 * closed with the cycle's pool). NULL after mg_conf_error with nginx's wording. */
mg_syslog_peer_t *mg_syslog_parse(mg_conf_t *cf, mg_str_t params);
/* Write the header for a message of that severity (0 emerg .. 7 debug) into buf (at least
 * MG_SYSLOG_HEADER_MAX bytes); returns its length. */
size_t mg_syslog_header(mg_syslog_peer_t *peer, int severity, char *buf);
/* Send one message (header included). The bytes sent, or -1: a failure is logged to the
 * cycle's error log as nginx words it, except a full socket buffer, which is only -1. */
ssize_t mg_syslog_send(mg_syslog_peer_t *peer, const char *buf, size_t len);
/* The error_log writer (wdata: the peer). */
void mg_syslog_writer(mg_log_t *log, int level, const char *buf, size_t len);

#endif
