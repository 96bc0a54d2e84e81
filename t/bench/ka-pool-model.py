#!/usr/bin/env python3
# A model of the upstream keepalive pool in a closed loop (t/bench/proxy-churn.sh's case with
# the server as the slow side, as under valgrind): FLOWS clients each with one request in
# flight; each loop turn handles the events in the order the previous turn's actions made them
# ready (its writes' answers come back at once): C a client's request (a pool hit goes
# upstream, a miss connects and sends once writable: S), U an upstream answer (its connection
# is put back: at most K idle, the least recently used closed), S a new connection writable.
# Prints the connections opened per request over the second half of TURNS turns from an
# initial order: allC (every client at once), half (answers and requests alternate), blocks
# (a run of answers, then a run of requests). DEFER=1 trims the pool at the turn's end
# (core/http/upstream_keepalive.c's ka_trim) instead of at the put; IMM=1 sends on a new
# connection at once.
#
#   t/bench/ka-pool-model.py K FLOWS allC|half|blocks [TURNS]    e.g. 32 50 blocks
import sys, os
IMM=os.environ.get("IMM")=="1"
DEFER=os.environ.get("DEFER")=="1"
K=int(sys.argv[1]); F=int(sys.argv[2]); init=sys.argv[3]; turns=int(sys.argv[4]) if len(sys.argv)>4 else 400
from collections import deque
pool=[]  # list of conn ids, index 0 = MRU
nextc=[0]; opened=0; closed=0
def newconn():
    nextc[0]+=1; return nextc[0]
conn={}
if init=='allC':
    order=[('C',f) for f in range(F)]
elif init=='half':
    order=[('C',f) if f%2 else ('U',f) for f in range(F)]
    for f in range(F):
        if f%2==0: conn[f]=newconn()
    for i in range(F//2): pool.append(newconn())
elif init=='blocks':
    order=[('U',f) for f in range(F//2)]+[('C',f) for f in range(F//2,F)]
    for f in range(F//2): conn[f]=newconn()
    for i in range(F//2): pool.append(newconn())
reqs=0
hist=[]
for t in range(turns):
    nxt=[]
    for ev,f in order:
        if ev=='C':
            reqs+=1
            if pool:
                conn[f]=pool.pop(0); nxt.append(('U',f))
            else:
                conn[f]=newconn(); opened+=1; nxt.append(("U" if IMM else "S",f))
        elif ev=='S':
            nxt.append(('U',f))
        else:
            c=conn.pop(f)
            if len(pool)>=K and not DEFER:
                pool.pop(); closed+=1
            pool.insert(0,c); nxt.append(('C',f))
    order=nxt
    while DEFER and len(pool)>K:
        pool.pop(); closed+=1
    if t==turns//2: r0,o0=reqs,opened
print(init,'K',K,'flows',F,'opened per request (second half):', round((opened-o0)/(reqs-r0),4), 'last turn:', ''.join(e for e,f in order))
