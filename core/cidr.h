/*
 * IP address literals and CIDR blocks as nginx reads them (allow/deny, set_real_ip_from):
 * dotted-quad IPv4, IPv6, "addr/bits"; matching treats IPv4-mapped IPv6 clients as IPv4.
 */
#ifndef MG_CIDR_H
#define MG_CIDR_H

#include <sys/socket.h>

#include "mg.h"

typedef struct {
    int family;             /* AF_INET or AF_INET6 */
    unsigned char addr[16]; /* network byte order, host bits cleared */
    unsigned char mask[16];
} mg_cidr_t;

/* Parse "addr" or "addr/bits": MG_OK, MG_DONE when the address had bits set beyond the mask
 * (they are cleared; nginx warns "low address bits of ... are meaningless"), MG_ERROR. */
mg_int_t mg_cidr_parse(mg_str_t text, mg_cidr_t *cidr);
/* Whether the address sa (AF_INET or AF_INET6; an IPv4-mapped IPv6 address counts as IPv4)
 * lies in the block. Other families never match. */
int mg_cidr_match(const mg_cidr_t *cidr, const struct sockaddr *sa);
/* Parse an IPv4 or IPv6 literal (no port, no brackets) into ss with port 0: MG_OK or
 * MG_DECLINED. */
mg_int_t mg_addr_parse(mg_str_t text, struct sockaddr_storage *ss, socklen_t *len);
/* An IPv6 literal of hex groups with at most one "::", read as inet_pton reads it but in place
 * (no copy, no libc: a geo of $remote_addr and realip read one per request): 1 with the
 * address in out (network order), 0 when it is no address, -1 when a group ends in '.' (a
 * dotted IPv4 tail, which each caller reads its own way; out untouched unless 1). */
int mg_inet6_parse_hex(const char *s, size_t len, unsigned char out[16]);

#endif
