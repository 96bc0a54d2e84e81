"""A socket option of the server's own end of a connection, read from this process: the
pidfd_getfd(2) syscall copies the worker's descriptor here, where getsockopt reads it (as
t/884 does in Perl). Needs the right to ptrace the server (a server of the same user, as the tests')."""
import ctypes
import os
import socket

_libc = ctypes.CDLL(None, use_errno=True)
_PIDFD_OPEN, _PIDFD_GETFD = 434, 438


def _pids(pidfile):
    """the master's pid (from pidfile) and its children's"""
    master = int(open(pidfile).read().split()[0])
    pids = [master]
    for d in os.listdir('/proc'):
        if d.isdigit():
            try:
                stat = open('/proc/%s/stat' % d).read()
            except OSError:
                continue
            if int(stat.rsplit(')', 1)[1].split()[1]) == master:
                pids.append(int(d))
    return pids


def option(pidfile, lport, cport, level=socket.IPPROTO_TCP, name=socket.TCP_NODELAY):
    """the option on the server's socket from local port lport to the client's port cport
    (-1: no such socket)"""
    for pid in _pids(pidfile):
        pfd = _libc.syscall(_PIDFD_OPEN, pid, 0)
        if pfd < 0:
            continue
        try:
            for f in os.listdir('/proc/%d/fd' % pid):
                try:
                    if not os.readlink('/proc/%d/fd/%s' % (pid, f)).startswith('socket:'):
                        continue
                except OSError:
                    continue
                fd = _libc.syscall(_PIDFD_GETFD, pfd, int(f), 0)
                if fd < 0:
                    continue
                s = socket.socket(fileno=fd)
                try:
                    if (s.family == socket.AF_INET and s.getpeername()[1] == cport
                            and s.getsockname()[1] == lport):
                        return s.getsockopt(level, name)
                except OSError:
                    pass
                finally:
                    s.close()
        finally:
            os.close(pfd)
    return -1
