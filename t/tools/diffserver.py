# The server side the differential drivers share (h1diff.py, h2diff.py, phasediff.py,
# ssidiff.py): one moongate or Debian nginx started from a configuration text in a work
# directory of its own, stopped, and its error log read a case at a time with the timestamp,
# pid and connection number taken off.
import os, re, signal, socket, subprocess, sys, time


def free_port():
    s = socket.socket()
    s.bind(('127.0.0.1', 0))
    p = s.getsockname()[1]
    s.close()
    return p


def nginx_modules(binary, names, other=''):
    """load_module lines for Debian's nginx (moongate has the modules built in: `other`)"""
    if 'nginx' not in os.path.basename(binary):
        return other
    return ''.join('load_module /usr/lib/nginx/modules/%s.so;\n' % m for m in names)


LOG_PREFIX = re.compile(r'^\d{4}/\d\d/\d\d \d\d:\d\d:\d\d (\[\w+\]) \d+#\d+: (\*\d+ )?')


class DiffServer:
    def start(self, tool, name, binary, root, conf, port, files=None):
        """write conf (and html/NAME files), start the server, wait until port answers"""
        self.name, self.binary, self.root = name, binary, root
        for d in ('logs', 'conf', 'cbt', 'pt', 'ft', 'ut', 'st', 'html'):
            os.makedirs(os.path.join(root, d), exist_ok=True)
        for n, text in (files or {}).items():
            with open(os.path.join(root, 'html', n), 'w') as f:
                f.write(text)
        self.conf = os.path.join(root, 'conf', 'main.conf')
        with open(self.conf, 'w') as f:
            f.write(conf)
        try:  # another run on this workdir would lose its servers when the pid file is rewritten
            os.kill(int(open(os.path.join(root, 'logs', 'pid')).read()), 0)
            sys.exit('%s: a server still runs in %s (another run? use -d)' % (tool, root))
        except (OSError, ValueError):
            pass
        self.log = os.path.join(root, 'logs', 'error.log')
        open(self.log, 'w').close()
        self.logpos = 0
        subprocess.run([binary, '-p', root, '-c', self.conf], check=True)
        for _ in range(100):
            try:
                socket.create_connection(('127.0.0.1', port), 1).close()
                break
            except OSError:
                time.sleep(0.05)

    def settle(self):
        """the probe's "client closed connection" line is not the first case's"""
        time.sleep(0.3)
        self.logpos = os.path.getsize(self.log)

    def stop(self):
        try:
            pid = int(open(os.path.join(self.root, 'logs', 'pid')).read())
            os.kill(pid, signal.SIGQUIT)
            for _ in range(100):
                os.kill(pid, 0)
                time.sleep(0.05)
            os.kill(pid, signal.SIGKILL)
        except (OSError, ValueError):
            pass

    def new_lines(self, workers=False):
        """the log lines written since the last call (without "start worker process" ones
        unless workers), each with its prefix taken off"""
        with open(self.log, 'rb') as f:
            f.seek(self.logpos)
            data = f.read()
        self.logpos += len(data)
        return [LOG_PREFIX.sub(r'\1 ', line) for line in data.decode('latin-1').split('\n')[:-1]
                if workers or 'start worker process' not in line]
