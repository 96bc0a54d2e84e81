# The WSGI application of t/601-uwsgi.t and t/602-scgi.t (run by Debian's uwsgi with its
# python3 plugin): /env echoes CGI variables, /post the body's length and md5, /status the
# status and headers asked for, /big 1 MB.
import hashlib
import sys


def application(environ, start_response):
    path = environ.get('PATH_INFO', '')
    if path == '/post':
        n = int(environ.get('CONTENT_LENGTH') or 0)
        data = environ['wsgi.input'].read(n)
        start_response('200 OK', [('Content-Type', 'text/plain')])
        return [('%d %s\n' % (len(data), hashlib.md5(data).hexdigest())).encode()]
    if path == '/status':
        start_response('404 Not There', [('Content-Type', 'text/plain'), ('X-App', 'py'),
                                         ('X-Secret', 'hidden')])
        return [b'not here\n']
    if path == '/big':
        start_response('200 OK', [('Content-Type', 'application/octet-stream')])
        return [b'0123456789abcdef' * 4096 for _ in range(16)]
    names = ['REQUEST_METHOD', 'REQUEST_URI', 'QUERY_STRING', 'PATH_INFO', 'SERVER_PROTOCOL',
             'CONTENT_LENGTH', 'HTTP_X_FOO', 'MY_PARAM', 'UWSGI_MOD']
    body = ''.join('%s=%s\n' % (k, environ.get(k, '(unset)')) for k in names)
    start_response('200 OK', [('Content-Type', 'text/plain')])
    return [body.encode()]
