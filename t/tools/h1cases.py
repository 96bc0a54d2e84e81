# Cases for t/tools/h1diff.py: (name, bytes[, 'port1' | 'port2']).  port2's default server has
# merge_slashes off, underscores_in_headers on, ignore_invalid_headers off.

CASES = []


def add(name, data, port='port1', splits=()):
    CASES.append((name, data if isinstance(data, bytes) else data.encode('latin-1'), port, splits))


H = 'Host: a\r\n'
C = 'Connection: close\r\n'


def get(target, path_headers='', ver='HTTP/1.1', method='GET'):
    return '%s %s %s\r\n%s%s%s\r\n' % (method, target, ver, H, path_headers, C)


# --- request line: methods ------------------------------------------------------------------
for m in ['GET', 'get', 'Get', 'POST', 'HEAD', 'PUT', 'DELETE', 'OPTIONS', 'TRACE', 'PATCH',
          'CONNECT', 'PROPFIND', 'MKCOL', 'COPY', 'MOVE', 'LOCK', 'UNLOCK', 'PROPPATCH',
          'FOO', 'FOO_BAR', 'FOO-BAR', 'G3T', 'GET1', 'A' * 40, 'M' * 3000, 'GE\x00T', 'GE\tT',
          '\xffGET', 'G.T', 'G@T', 'GeT', 'BREW', 'SEARCH', 'QUERY']:
    add('method %r' % m[:50], '%s /r HTTP/1.1\r\n%s%s\r\n' % (m, H, C))
add('method empty', ' /r HTTP/1.1\r\n' + H + C + '\r\n')
add('method lua', 'FOO / HTTP/1.1\r\n' + H + C + '\r\n')
add('method post no length', 'POST /r HTTP/1.1\r\n' + H + C + '\r\n')
add('method post lua no length', 'POST / HTTP/1.1\r\n' + H + C + '\r\n')
add('method head lua', 'HEAD / HTTP/1.1\r\n' + H + C + '\r\n')
add('method trace body', 'TRACE / HTTP/1.1\r\n' + H + 'Content-Length: 3\r\n' + C + '\r\nabc')

# --- request line: targets ------------------------------------------------------------------
for t in ['http://h/r', 'http://h', 'http://h/', 'http://h:80/r', 'http://h:8080/r', 'https://h/r',
          'HTTP://H/r', 'Http://h/r', 'http://u@h/r', 'http://u:p@h/r', 'http://[::1]/r',
          'http://[::1]:80/r', 'http://[::1', 'http://[zz]/r', 'http://h:/r', 'http://h:x/r',
          'http://h:99999/r', 'http://h?x=1', 'http://h/r?x=1', 'http://h.example./r',
          'http://example.com/r', 'http://EXAMPLE.COM/r', 'http://a.wild.test/r', 'http://h..x/r',
          'http://h/../r', 'http://-h/r', 'http://h_x/r', 'http://h%41/r', 'http:/h/r', 'http:h/r',
          'ftp://h/r', 'foo://h/r', 'http:///r', 'http://', 'h:80', 'h', '*', 'r', '?x',
          'http://h#f', 'http://h/r#f', '//r', '///r', '/r//x', '/r/./x', '/r/../x', '/r/x/..',
          '/r/x/../..', '/../r', '/./r', '/r/.', '/r/..', '/r/...', '/r/.x', '/r%2Fx',
          '/r/%2e%2e/x', '/r/%2E%2E/%2e%2e/x', '/%2e%2e/r', '/r/%2e/x', '/r%00x', '/r%zz',
          '/r%2', '/r%', '/r%%', '/r%41', '/r%7E', '/r%c3%a9', '/r\xc3\xa9', '/r\x80', '/r\xff',
          '/r#frag', '/r?a#f', '/r?#', '/r?', '/r??', '/r?a=1&b=2', '/r?a=%00', '/r?a=\x01',
          '/r?a b', '/r\\x', '/r\\..\\x', '/r/x\\', '/r;p=1', '/r/x;/../y', '/r\x7f', '/r~x',
          '/r"x', '/r<x>', '/r{x}', '/r|x', '/r^x', '/r`x', '/r\x1bx', '/r\x0bx', '/r\x0cx',
          '/r/%2e%2e%2f', '/r/.%2e/x', '/r/%2e./x', '/r//..//x', '/r/.../x', '/r/./../../x',
          '/r/x/./', '/r/x/../', '/.r', '/..r', '/r/.hidden/../x']:
    add('target %r' % t, get(t))
for t in ['/x/../', '/a//b', '/a/./b', '/%2e%2e/a', '/a/%2e%2e/b', '/a%2fb', '/a?b/../c', '/a#/../b',
          '/a/b/..', '/a/..%2f']:
    add('lua target %r' % t, get(t))
for t in ['/r//x', '//r', '/r/./x', '/r/../x', '/p//x', '/s//x', '/s/a/../b', '/s%20x', '/s%2Fx',
          '/p?a=%20b', '/s?a=b', '/s/%3F', '/s/a%3Fb']:
    add('port2 target %r' % t, get(t), 'port2')
    add('port1 target %r' % t, get(t))
add('noms merge off', 'GET /r//x HTTP/1.1\r\nHost: noms.test\r\n' + C + '\r\n')
add('noms merge off abs', 'GET http://noms.test/r//x HTTP/1.1\r\nHost: a\r\n' + C + '\r\n')
add('noms underscores', 'GET / HTTP/1.1\r\nHost: noms.test\r\nA_B: 1\r\n' + C + '\r\n')

# --- request line: versions and spacing -----------------------------------------------------
for v in ['HTTP/1.0', 'HTTP/1.1', 'HTTP/1.2', 'HTTP/1.9', 'HTTP/2.0', 'HTTP/2', 'HTTP/3.0',
          'HTTP/10.0', 'HTTP/0.9', 'HTTP/0.1', 'HTTP/1', 'HTTP/1.', 'HTTP/.1', 'HTTP/', 'HTTP',
          'http/1.1', 'Http/1.1', 'HTTP/1.1x', 'HTTP/1.1 x', 'HTTPS/1.1', 'HTTP/1.100',
          'HTTP/1.1000', 'HTTP/999.999', 'HTTP/1000.0', 'HTTP/1.01', 'HTTP/01.1', 'HTTP/ 1.1',
          'HTTP/1 .1', 'HTTP/1.1\t', 'HTTP/1.1 ', 'ICE/1.0', 'RTSP/1.0', 'HTTP/-1.1', 'HTTP/+1.1']:
    add('version %r' % v, 'GET /r %s\r\n%s%s\r\n' % (v, H, C))
add('http09', 'GET /r\r\n')
add('http09 lf', 'GET /r\n')
add('http09 lua', 'GET /\r\n')
add('http09 post', 'POST /r\r\n')
add('http09 head', 'HEAD /r\r\n')
add('http09 args', 'GET /r?a=1\r\n')
add('http09 space', 'GET /r \r\n')
add('http09 headers', 'GET /r\r\nHost: a\r\n\r\n')
add('http10 no host', 'GET /r HTTP/1.0\r\n\r\n')
add('http10 keepalive', 'GET /r HTTP/1.0\r\nConnection: keep-alive\r\n\r\nGET /r HTTP/1.0\r\n\r\n')
add('http11 no host', 'GET /r HTTP/1.1\r\n' + C + '\r\n')
add('http11 keepalive default', 'GET /r HTTP/1.1\r\n' + H + '\r\n')
add('http11 pipelined', 'GET /r HTTP/1.1\r\n' + H + '\r\nGET /r?2 HTTP/1.1\r\n' + H + C + '\r\n')
add('http2 preface', 'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n')
add('http2 pri get', 'PRI / HTTP/1.1\r\n' + H + C + '\r\n')
for line in ['GET  /r HTTP/1.1', 'GET /r  HTTP/1.1', 'GET\t/r HTTP/1.1', 'GET /r\tHTTP/1.1',
             ' GET /r HTTP/1.1', 'GET /r HTTP/1.1 ', 'GET /r HTTP/1.1  ', 'GET /r HTTP/1.1\t',
             'GET /r x HTTP/1.1', 'GET /r HTTP/1.1 HTTP/1.1', 'GET', 'GET ', 'GET /r ', '',
             'GET /r HTTP/1.1\r', 'GET /r\rHTTP/1.1', 'GET /r HTTP/1.1\x00', 'GET /r\x00 HTTP/1.1',
             'GET \x00/r HTTP/1.1', 'GET /r\x01 HTTP/1.1', 'GET /r\x7f HTTP/1.1',
             'GET /r\x0b HTTP/1.1', 'GET /r\x0c HTTP/1.1', 'GET r HTTP/1.1',
             'GET /r HTTP/1.1\x0b', 'GET /r HTTP/1.1\x0c']:
    add('line %r' % line, line + '\r\n' + H + C + '\r\n')
add('bare lf line', 'GET /r HTTP/1.1\n' + 'Host: a\nConnection: close\n\n')
add('bare lf mixed', 'GET /r HTTP/1.1\r\nHost: a\nConnection: close\r\n\n')
add('bare lf end', 'GET /r HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\n')
add('cr alone line', 'GET /r HTTP/1.1\rHost: a\r\n' + C + '\r\n')
add('cr alone header', 'GET /r HTTP/1.1\r\nHost: a\rX: b\r\n' + C + '\r\n')
add('cr alone end', 'GET /r HTTP/1.1\r\nHost: a\r\n' + C + '\r\r\n')
add('leading crlf', '\r\n\r\nGET /r HTTP/1.1\r\n' + H + C + '\r\n')
add('leading lf', '\nGET /r HTTP/1.1\r\n' + H + C + '\r\n')
add('leading space', ' \r\nGET /r HTTP/1.1\r\n' + H + C + '\r\n')
add('empty request', '\r\n')
add('nul first', '\x00GET /r HTTP/1.1\r\n' + H + C + '\r\n')
add('tls hello on h1', '\x16\x03\x01\x00\x05hello')
for n in [900, 1100, 2000, 2100, 4000, 9000]:
    add('long uri %d' % n, get('/r?' + 'a' * n))
    add('long header %d' % n, 'GET /r HTTP/1.1\r\nHost: a\r\nX-L: ' + 'b' * n + '\r\n' + C + '\r\n')
add('many headers', 'GET /r HTTP/1.1\r\n' + H + ''.join('X-%d: %s\r\n' % (i, 'v' * 300)
                                                      for i in range(30)) + C + '\r\n')
add('long method line', 'GET /r' + 'x' * 2100 + ' HTTP/1.1\r\n' + H + C + '\r\n')

# --- headers ------------------------------------------------------------------------------------
for hl in ['X: a\r\n b', 'X: a\r\n\tb', 'X: a\r\n  ', ' X: a', '\tX: a', 'X a', 'X', ':a', ': a',
           'X : a', 'X\t: a', 'X:a', 'X:  a  ', 'X:\ta\t', 'X:', 'X: ', 'X-Y_Z: a', 'X_Y: a', '_X: a',
           'X.Y: a', 'X@Y: a', 'X(Y): a', 'X/Y: a', 'X\x00Y: a', 'X: a\x00b', 'X: a\x01b',
           'X: a\x7fb', 'X: a\x80b', 'X: a\xffb', 'X\x80: a', 'X\xff: a', 'X: a\tb', 'X: a\rb',
           'X: a\x0bb', 'X-\x7f: a', 'x-lower: a', 'X-UPPER: a', 'X: \xc3\xa9',
           'X: a\r\nX: b', 'x: a\r\nX: b', 'Cookie: a=1\r\nCookie: b=2', 'Host2: a', 'X;Y: a',
           'X"Y: a', 'X{Y}: a', 'X=Y: a', 'X,Y: a', 'X?Y: a', 'X[Y]: a', 'X\\Y: a']:
    add('header %r' % hl, 'GET / HTTP/1.1\r\n' + H + hl + '\r\n' + C + '\r\n')
    add('header port2 %r' % hl, 'GET / HTTP/1.1\r\n' + H + hl + '\r\n' + C + '\r\n', 'port2')
add('header proxied fold', 'GET /p HTTP/1.1\r\n' + H + 'X: a\r\n b\r\n' + C + '\r\n')
add('header proxied underscore', 'GET /p HTTP/1.1\r\n' + H + 'X_Y: a\r\n' + C + '\r\n', 'port2')
add('header proxied underscore p1', 'GET /p HTTP/1.1\r\n' + H + 'X_Y: a\r\n' + C + '\r\n')
add('header proxied invalid p2', 'GET /p HTTP/1.1\r\n' + H + 'X@Y: a\r\n' + C + '\r\n', 'port2')
add('header proxied spaces', 'GET /p HTTP/1.1\r\n' + H + 'X:   a b  \r\n' + C + '\r\n')
add('header proxied dup', 'GET /p HTTP/1.1\r\n' + H + 'X: a\r\nX: b\r\n' + C + '\r\n')
add('header proxied high', 'GET /p HTTP/1.1\r\n' + H + 'X: \xc3\xa9\x80\r\n' + C + '\r\n')

# Host
for hh in ['Host: a\r\nHost: a', 'Host: a\r\nHost: b', 'Host: a:80', 'Host: a:', 'Host: a:x',
           'Host: a:99999', 'Host: u@a', 'Host: u:p@a', 'Host: [::1]', 'Host: [::1]:80',
           'Host: [::1', 'Host: ::1', 'Host: a.', 'Host: a..', 'Host: .a', 'Host: a..b',
           'Host: A.B', 'Host: EXAMPLE.COM', 'Host: example.com.', 'Host: example.com:1',
           'Host: x.wild.test', 'Host: ', 'Host:', 'Host: a b', 'Host: a/b', 'Host: a\\b',
           'Host: a\x00', 'Host: a%41', 'Host: \xc3\xa9', 'Host: a_b', 'Host: -a', 'Host: a-',
           'Host: 127.0.0.1', 'Host: 1.2.3.4:5', 'Host: a,b', 'Host: a;b', 'Host: a?b',
           'Host: a#b', 'Host: a\tb', 'Host:\ta', 'Host: a\t', 'Host: /', 'Host: ..', 'Host: .',
           'Host: a:80:80', 'Host: [v1.x]', 'Host: [::1]x', 'Host: [::1]:', 'host: a',
           'HOST: a', 'Host : a', 'Host: a\r\n b']:
    add('host %r' % hh, 'GET /r HTTP/1.1\r\n' + hh + '\r\n' + C + '\r\n')
    add('host lua %r' % hh, 'GET / HTTP/1.1\r\n' + hh + '\r\n' + C + '\r\n')
add('host abs vs header', 'GET http://example.com/r HTTP/1.1\r\nHost: other\r\n' + C + '\r\n')
add('host abs vs header 2', 'GET http://other/r HTTP/1.1\r\nHost: example.com\r\n' + C + '\r\n')
add('host abs no header 11', 'GET http://example.com/r HTTP/1.1\r\n' + C + '\r\n')
add('host abs no header 10', 'GET http://example.com/r HTTP/1.0\r\n\r\n')
add('host abs proxied', 'GET http://other/p?a HTTP/1.1\r\nHost: x\r\n' + C + '\r\n')
add('host http10 none proxied', 'GET /p HTTP/1.0\r\n\r\n')
add('host proxied port', 'GET /p HTTP/1.1\r\nHost: a:99\r\n' + C + '\r\n')

# --- content-length -------------------------------------------------------------------------
for cl in ['3', '03', '0003', '+3', '-3', ' 3', '3 ', '3\t', '3,3', '3, 3', '3,4', '3 3', '0x3',
           '3a', '', '99999999999999999999', '9223372036854775807', '9223372036854775808',
           '18446744073709551616', '2000000', '0', '00', '-0', '3.0', '\t3', '\xd9\xa3']:
    add('cl %r' % cl, 'POST / HTTP/1.1\r\n' + H + 'Content-Length: ' + cl + '\r\n' + C + '\r\nabc')
    add('cl proxied %r' % cl, 'POST /p HTTP/1.1\r\n' + H + 'Content-Length: ' + cl + '\r\n' + C
        + '\r\nabc')
add('cl dup same', 'POST / HTTP/1.1\r\n' + H + 'Content-Length: 3\r\nContent-Length: 3\r\n' + C
    + '\r\nabc')
add('cl dup diff', 'POST / HTTP/1.1\r\n' + H + 'Content-Length: 3\r\nContent-Length: 4\r\n' + C
    + '\r\nabcd')
add('cl dup diff return', 'POST /r HTTP/1.1\r\n' + H + 'Content-Length: 3\r\nContent-Length: 4\r\n'
    + C + '\r\nabcd')
add('cl dup proxied', 'POST /p HTTP/1.1\r\n' + H + 'Content-Length: 3\r\nContent-Length: 3\r\n'
    + C + '\r\nabc')
add('cl short body', 'POST / HTTP/1.1\r\n' + H + 'Content-Length: 10\r\n' + C + '\r\nabc')
add('cl on get', 'GET / HTTP/1.1\r\n' + H + 'Content-Length: 3\r\n' + C + '\r\nabc')
add('cl on get return', 'GET /r HTTP/1.1\r\n' + H + 'Content-Length: 3\r\n' + C + '\r\nabc')
add('cl http10', 'POST / HTTP/1.0\r\nContent-Length: 3\r\n\r\nabc')
add('cl too big', 'POST / HTTP/1.1\r\n' + H + 'Content-Length: 2000000\r\n' + C + '\r\nabc')
add('cl too big return', 'POST /r HTTP/1.1\r\n' + H + 'Content-Length: 2000000\r\n' + C + '\r\nabc')
add('cl fold', 'POST / HTTP/1.1\r\n' + H + 'Content-Length:\r\n 3\r\n' + C + '\r\nabc')
add('cl name space', 'POST / HTTP/1.1\r\n' + H + 'Content-Length : 3\r\n' + C + '\r\nabc')
add('cl lowercase', 'POST / HTTP/1.1\r\n' + H + 'content-length: 3\r\n' + C + '\r\nabc')

# --- transfer-encoding ------------------------------------------------------------------------
CH = '3\r\nabc\r\n0\r\n\r\n'
for te in ['chunked', 'Chunked', 'CHUNKED', ' chunked', 'chunked ', 'chunked\t', 'gzip, chunked',
           'chunked, gzip', 'identity', 'identity, chunked', 'chunked, chunked', 'chunked,',
           ',chunked', 'gzip', 'x', '', 'chunked;q=1', '"chunked"', 'chunk', 'chunkedx',
           'chunked\r\nTransfer-Encoding: chunked', 'gzip\r\nTransfer-Encoding: chunked',
           'chunked\r\nTransfer-Encoding: gzip', 'chunked\r\n x']:
    add('te %r' % te, 'POST / HTTP/1.1\r\n' + H + 'Transfer-Encoding: ' + te + '\r\n' + C + '\r\n'
        + CH)
    add('te proxied %r' % te, 'POST /p HTTP/1.1\r\n' + H + 'Transfer-Encoding: ' + te + '\r\n' + C
        + '\r\n' + CH)
add('te and cl', 'POST / HTTP/1.1\r\n' + H + 'Transfer-Encoding: chunked\r\nContent-Length: 3\r\n'
    + C + '\r\n' + CH)
add('cl and te', 'POST / HTTP/1.1\r\n' + H + 'Content-Length: 3\r\nTransfer-Encoding: chunked\r\n'
    + C + '\r\n' + CH)
add('te and cl proxied', 'POST /p HTTP/1.1\r\n' + H + 'Content-Length: 3\r\n'
    'Transfer-Encoding: chunked\r\n' + C + '\r\n' + CH)
add('te http10', 'POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n' + CH)
add('te http10 proxied', 'POST /p HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n' + CH)
add('te get', 'GET /r HTTP/1.1\r\n' + H + 'Transfer-Encoding: chunked\r\n' + C + '\r\n' + CH)
add('te unbuffered', 'POST /q HTTP/1.1\r\n' + H + 'Transfer-Encoding: chunked\r\n' + C + '\r\n' + CH)
add('te fold', 'POST / HTTP/1.1\r\n' + H + 'Transfer-Encoding:\r\n chunked\r\n' + C + '\r\n' + CH)
for body in ['3\r\nabc\r\n0\r\n\r\n', '3;x=1\r\nabc\r\n0\r\n\r\n', '3;x\r\nabc\r\n0;y\r\n\r\n',
             '3 ;x\r\nabc\r\n0\r\n\r\n', '3 \r\nabc\r\n0\r\n\r\n', '3\t\r\nabc\r\n0\r\n\r\n',
             'A\r\n0123456789\r\n0\r\n\r\n', 'a\r\n0123456789\r\n0\r\n\r\n',
             '0003\r\nabc\r\n0\r\n\r\n', '00\r\n\r\n', '000000000000000000003\r\nabc\r\n0\r\n\r\n',
             'ffffffffffffffff\r\nabc\r\n0\r\n\r\n', '7fffffffffffffff\r\nabc\r\n0\r\n\r\n',
             '10000000000000000\r\nabc\r\n0\r\n\r\n', '-3\r\nabc\r\n0\r\n\r\n', '+3\r\nabc\r\n0\r\n\r\n',
             '0x3\r\nabc\r\n0\r\n\r\n', '3\r\nabcX0\r\n\r\n', '3\r\nabc0\r\n\r\n',
             '3\r\nabc\n0\r\n\r\n', '3\nabc\n0\n\n', '3\r\nabc\r\n0\n\n', '3\r\nabc\r\n0\r\n\n',
             '3\rabc\r\n0\r\n\r\n', '3\r\nabc\r\n0\r\nX-T: 1\r\n\r\n',
             '3\r\nabc\r\n0\r\nX-T: 1\r\nY: 2\r\n\r\n', '3\r\nabc\r\n0\r\nbad trailer\r\n\r\n',
             '3\r\nabc\r\n0\r\nX-T: 1\n\n', '3\r\nabc\r\n0\r\n', '3\r\nabc\r\n',
             '3\r\nab', '\r\n3\r\nabc\r\n0\r\n\r\n', ' 3\r\nabc\r\n0\r\n\r\n',
             '3\r\nabc\r\n\r\n0\r\n\r\n', '1\r\na\r\n1\r\nb\r\n1\r\nc\r\n0\r\n\r\n', 'g\r\n',
             '3;\r\nabc\r\n0\r\n\r\n', '3;a="b;c"\r\nabc\r\n0\r\n\r\n', '3\x00\r\nabc\r\n0\r\n\r\n',
             '200000\r\n' + 'x' * 100 + '\r\n0\r\n\r\n', '0\r\n\r\nGET /r?smuggled HTTP/1.1\r\nHost: a\r\n\r\n']:
    add('chunk %r' % body[:60], 'POST / HTTP/1.1\r\n' + H + 'Transfer-Encoding: chunked\r\n' + C
        + '\r\n' + body)
    add('chunk proxied %r' % body[:60], 'POST /p HTTP/1.1\r\n' + H + 'Transfer-Encoding: chunked\r\n'
        + C + '\r\n' + body)
    add('chunk unbuffered %r' % body[:60], 'POST /q HTTP/1.1\r\n' + H
        + 'Transfer-Encoding: chunked\r\n' + C + '\r\n' + body)

# --- expect ------------------------------------------------------------------------------------
for ex in ['100-continue', '100-Continue', '100-CONTINUE', ' 100-continue ', '100-continue, x',
           'x', '', '200-ok', '100-continue\r\nExpect: 100-continue']:
    add('expect %r' % ex, 'POST / HTTP/1.1\r\n' + H + 'Expect: ' + ex + '\r\nContent-Length: 3\r\n'
        + C + '\r\nabc')
    add('expect proxied %r' % ex, 'POST /p HTTP/1.1\r\n' + H + 'Expect: ' + ex
        + '\r\nContent-Length: 3\r\n' + C + '\r\nabc')
add('expect http10', 'POST / HTTP/1.0\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\nabc')
add('expect return', 'POST /r HTTP/1.1\r\n' + H + 'Expect: 100-continue\r\nContent-Length: 3\r\n'
    + C + '\r\nabc')
add('expect get', 'GET / HTTP/1.1\r\n' + H + 'Expect: 100-continue\r\n' + C + '\r\n')
add('expect chunked', 'POST / HTTP/1.1\r\n' + H + 'Expect: 100-continue\r\n'
    'Transfer-Encoding: chunked\r\n' + C + '\r\n' + CH)

# --- connection -------------------------------------------------------------------------------
for cn in ['close', 'Close', 'CLOSE', 'keep-alive', 'Keep-Alive', 'close, keep-alive',
           'keep-alive, close', 'upgrade', 'x, close', 'closex', ' close', 'close ', '', 'te',
           'close\r\nConnection: keep-alive', 'keep-alive\r\nConnection: close']:
    for ver in ['HTTP/1.1', 'HTTP/1.0']:
        add('conn %s %r' % (ver, cn), 'GET /r %s\r\nHost: a\r\nConnection: %s\r\n\r\n' % (ver, cn))
    add('conn proxied %r' % cn, 'GET /p HTTP/1.1\r\nHost: a\r\nConnection: %s\r\nTE: trailers\r\n'
        'Keep-Alive: 1\r\nUpgrade: x\r\nProxy-Connection: y\r\n\r\n' % cn)
add('conn upgrade proxied', 'GET /p HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\n'
    'Upgrade: websocket\r\n\r\n')

# --- pipelining / smuggling -------------------------------------------------------------------
G2 = 'GET /r?second HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n'
for first in ['POST /r HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabc',
              'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabc',
              'POST /p HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabc',
              'POST /r HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n',
              'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n',
              'POST /p HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n',
              'POST /q HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n',
              'POST /r HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n'
              '3\r\nabc\r\n0\r\n\r\n',
              'POST /r HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n'
              '3\r\nabc\r\n0\r\n\r\n',
              'POST /r HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\nContent-Length: 5\r\n\r\nabcde',
              'POST /r HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\nX: y\r\n\r\n',
              'POST /r HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\nabc\n0\n\n',
              'POST /r HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3;x\r\nabc\r\n0\r\n\r\n',
              'POST /r HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc0\r\n\r\n',
              'POST /r HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n',
              'POST /r HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, gzip\r\n\r\n3\r\nabc\r\n0\r\n\r\n',
              'POST /r HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: identity\r\nContent-Length: 3\r\n\r\nabc',
              'POST /r HTTP/1.0\r\nConnection: keep-alive\r\nTransfer-Encoding: chunked\r\n\r\n'
              '3\r\nabc\r\n0\r\n\r\n',
              'POST /r HTTP/1.0\r\nConnection: keep-alive\r\nContent-Length: 3\r\n\r\nabc',
              'GET /r HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabc',
              'GET /r HTTP/1.1\r\nHost: a\r\nX: a\r\n b\r\nContent-Length: 3\r\n\r\nabc',
              'POST /r HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nExpect: 100-continue\r\n\r\nabc',
              'POST /r HTTP/1.1\r\nHost: a\r\nContent-Length : 3\r\n\r\nabc',
              'POST /r HTTP/1.1\r\nHost: a\r\nContent_Length: 3\r\n\r\nabc',
              'POST /r HTTP/1.1\r\nHost: a\r\nTransfer_Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n',
              'POST /r HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: \x0bchunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n',
              'POST /r HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n'
              '3\r\nabc\r\n0\r\n\r\nGARBAGE\r\n',
              'POST /r HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nabc\r\n0\r\n\r\n',
              'HEAD /r HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabc',
              'OPTIONS /r HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabc']:
    add('pipe %r' % first[:90], first + G2)
    add('pipe port2 %r' % first[:90], first + G2, 'port2')
add('pipe get after get', 'GET /r HTTP/1.1\r\nHost: a\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n' + G2)
add('pipe http09 after', 'GET /r HTTP/1.1\r\nHost: a\r\n\r\nGET /r\r\n')
add('pipe bad after', 'GET /r HTTP/1.1\r\nHost: a\r\n\r\nGARBAGE\r\n\r\n')
add('pipe static', 'GET /static/f.txt HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabc' + G2)
add('pipe static post', 'POST /static/f.txt HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabc' + G2)
add('pipe 404', 'POST /static/none HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabc' + G2)
add('pipe 413', 'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 2000000\r\n\r\nabc' + G2)

# --- duplicates of headers nginx takes once ------------------------------------------------------
for name, v in [('Expect', '100-continue'), ('If-Modified-Since', 'Sat, 01 Jan 2000 00:00:00 GMT'),
                ('If-Unmodified-Since', 'Sat, 01 Jan 2000 00:00:00 GMT'), ('If-Match', '"a"'),
                ('If-None-Match', '"a"'), ('If-Range', '"a"'), ('Range', 'bytes=0-1'),
                ('Content-Type', 'text/plain'), ('Content-Range', 'bytes 0-1/2'),
                ('User-Agent', 'x'), ('Referer', 'x'), ('Authorization', 'Basic eDp5'),
                ('Upgrade', 'x'), ('Keep-Alive', '1'), ('TE', 'trailers'), ('Via', 'x'),
                ('X-Forwarded-For', '1.2.3.4'), ('X-Real-IP', '1.2.3.4'), ('Accept-Encoding', 'gzip'),
                ('Accept', '*/*'), ('Accept-Language', 'en'), ('Cookie', 'a=1'), ('Date', 'x'),
                ('Destination', '/x'), ('Overwrite', 'T'), ('Depth', '1'), ('Proxy-Authorization', 'x'),
                ('Cache-Control', 'no-cache'), ('Pragma', 'no-cache'), ('Origin', 'x')]:
    add('dup %s' % name, 'GET / HTTP/1.1\r\n' + H + '%s: %s\r\n%s: %s\r\n' % (name, v, name, v) + C
        + '\r\n')
    add('dup static %s' % name, 'GET /static/f.txt HTTP/1.1\r\n' + H + '%s: %s\r\n%s: %s\r\n'
        % (name, v, name, v) + C + '\r\n')

# --- absolute-form hosts, more ------------------------------------------------------------------
for t in ['http://h', 'http://h?x', 'http://h?', 'http://[::1]x/r', 'http://h:80x/r', 'http://:80/r',
          'http://[::1]:/r', 'http://h:/r', 'http://[]/r', 'http://[a_b~!$&\'()*+,;=.-]/r',
          'http://[::1]?x', 'http://[::1]', 'http://h:80', 'http://h:80?x', 'http://h.-/r',
          'http://1.2.3.4:5/r', 'http://h#x', 'http://h:80#x', 'http://[::1]#x', 'http://h%/r',
          'http://H_/r', 'http://h@/r', 'http://[::1]]/r', 'http://[[::1]/r', 'http://h:8:0/r']:
    add('abs %r' % t, get(t))
    add('abs09 %r' % t, 'GET %s\r\n' % t)
add('abs09 bare', 'GET http://h\r\n')
add('abs proxied no path', 'GET http://h?x=1 HTTP/1.1\r\nHost: a\r\n' + C + '\r\n')

# --- connection, more -----------------------------------------------------------------------------
for cn in ['Keep-Alive, Upgrade', 'upgrade, close', 'xclose', 'keep-alivex', 'foo', 'keep-alive\r\nConnection: foo',
           'close\r\nConnection: foo', 'foo\r\nConnection: close']:
    for ver in ['HTTP/1.1', 'HTTP/1.0']:
        add('conn2 %s %r' % (ver, cn), 'GET /r %s\r\nHost: a\r\nConnection: %s\r\n\r\n' % (ver, cn))

# --- expect without a body --------------------------------------------------------------------
for target in ['/', '/r', '/p', '/static/f.txt']:
    for m in ['GET', 'POST', 'HEAD']:
        add('expect nobody %s %s' % (m, target), '%s %s HTTP/1.1\r\n' % (m, target) + H
            + 'Expect: 100-continue\r\n' + C + '\r\n')
    add('expect cl0 %s' % target, 'POST %s HTTP/1.1\r\n' % target + H
        + 'Expect: 100-continue\r\nContent-Length: 0\r\n' + C + '\r\n')
    add('expect http10 nobody %s' % target, 'GET %s HTTP/1.0\r\nExpect: 100-continue\r\n\r\n' % target)

# --- the same bytes in pieces: at each CR/LF, inside chunk sizes, inside the request line --------
SPLIT = [
    'GET http://[::1]:80/r?a HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n',
    'GET http://h:8/r HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n',
    'GET http://h_x/r HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n',
    'GET http://h HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n',
    'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3;x=y\r\nabc\r\n10\r\n0123456789abcdef\r\n0\r\nT: 1\r\n\r\n' + G2,
    'POST /p HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n' + G2,
    'POST /q HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n' + G2,
    'POST /r HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabc' + G2,
    'POST /r HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n' + G2,
    'GET /r HTTP/1.1\r\nHost: a\r\nX: a\r\n b\r\nConnection: close\r\n\r\n',
    'GET /r HTTP/1.1\r\nHost: a\r\nConnection: closex\r\n\r\n' + G2,
    'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0800000000000000\r\nabc',
]
for i, req in enumerate(SPLIT):
    cuts = [j + 1 for j, ch in enumerate(req) if ch in '\r\n:[]']
    add('split %d at CR/LF' % i, req, 'port1', tuple(cuts[:40]))
    add('split %d in halves' % i, req, 'port1', (len(req) // 2,))

# --- lines around the buffer sizes (client_header_buffer_size 1k, 4 large buffers of 2k) -------
for n in [1000, 1010, 1020, 1030, 2030, 2036, 2040, 2044, 2046, 2048, 2050]:
    line = 'GET /r?' + 'a' * (n - len('GET /r? HTTP/1.1\r\n')) + ' HTTP/1.1\r\n'
    add('edge line %d' % n, line + H + C + '\r\n')
    hdr = 'X: ' + 'b' * (n - len('X: \r\n')) + '\r\n'
    add('edge header %d' % n, 'GET /r HTTP/1.1\r\n' + H + hdr + C + '\r\n')
    add('edge header 4x %d' % n, 'GET /r HTTP/1.1\r\n' + H + hdr * 4 + C + '\r\n')
    add('edge header 3x %d' % n, 'GET /r HTTP/1.1\r\n' + H + hdr * 3 + C + '\r\n')

# --- more framing through the unbuffered proxy and HTTP/1.0 keep-alive ------------------------
for first in ['POST /q HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabc',
              'POST /q HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\nabc',
              'POST /q HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nTransfer-Encoding: chunked\r\n\r\n'
              '3\r\nabc\r\n0\r\n\r\n',
              'POST /q HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\nT: x\r\n\r\n',
              'POST /q HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3;ext\r\nabc\r\n0;e\r\n\r\n',
              'POST /q HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
              'POST /q HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n',
              'POST /p HTTP/1.0\r\nConnection: keep-alive\r\nContent-Length: 3\r\n\r\nabc',
              'GET /p HTTP/1.0\r\nConnection: keep-alive\r\n\r\n',
              'HEAD /p HTTP/1.1\r\nHost: a\r\n\r\n',
              'HEAD / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabc',
              'OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n',
              'DELETE /p HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabc',
              'PUT /static/f.txt HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabc',
              'POST /r HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nab',
              'POST /r HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabcd',
              'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabcd',
              'POST /p HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabcd']:
    add('pipe2 %r' % first[:90], first + G2)
    add('pipe2 split %r' % first[:90], first + G2, 'port1', (first.index('\r\n\r\n') + 4,))

# --- bodies around the buffers and client_max_body_size (1m) --------------------------------------
for n in [8191, 8192, 8193, 16384, 20000]:
    add('body cl %d' % n, 'POST / HTTP/1.1\r\n' + H + 'Content-Length: %d\r\n' % n + C + '\r\n' + 'x' * n)
    add('body cl proxied %d' % n, 'POST /p HTTP/1.1\r\n' + H + 'Content-Length: %d\r\n' % n + C + '\r\n'
        + 'x' * n)
    add('body chunked %d' % n, 'POST / HTTP/1.1\r\n' + H + 'Transfer-Encoding: chunked\r\n' + C
        + '\r\n%x\r\n%s\r\n0\r\n\r\n' % (n, 'x' * n))
for n in [1048576, 1048577]:
    add('body limit cl %d' % n, 'POST /r HTTP/1.1\r\n' + H + 'Content-Length: %d\r\n' % n + C + '\r\nabc')
    add('body limit chunk %d' % n, 'POST / HTTP/1.1\r\n' + H + 'Transfer-Encoding: chunked\r\n' + C
        + '\r\n%x\r\nabc' % n)
    add('body limit chunks %d' % n, 'POST / HTTP/1.1\r\n' + H + 'Transfer-Encoding: chunked\r\n' + C
        + '\r\n80000\r\n' + 'y' * 0x80000 + '\r\n%x\r\nabc' % (n - 0x80000))

# --- a body still coming after the response (discarded) and the next request after it -----------
for first, rest in [('POST /r HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\nabc', 'defghij'),
                    ('POST /r HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n',
                     '2\r\nde\r\n0\r\n\r\n'),
                    ('POST /r HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nab',
                     'c\r\n0\r\n\r\n'),
                    ('POST /r HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nab',
                     'cX\r\n0\r\n\r\n'),
                    ('POST /r HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\nabc', 'defghijk')]:
    add('late body %r' % (first + rest)[-40:], first + rest + G2, 'port1', (len(first),))
    add('late body split2 %r' % (first + rest)[-40:], first + rest + G2, 'port1',
        (len(first), len(first) + len(rest)))

# --- a head refused at one of its lines while the rest is still coming: nginx answers at that
# line (an invalid or second Host, a second unique header, a request line it cannot take), the
# rest then reaches a connection closing lingering; a line checked only at the head's end waits
for first, rest in [('GET /r HTTP/1.1\r\nHost: a/b\r\n', 'X-A: 1\r\n' + C + '\r\n'),
                    ('GET /r HTTP/1.1\r\nHost: ..\r\n', C + '\r\n'),
                    ('GET /r HTTP/1.1\r\nHost: a\r\nHost: b\r\n', C + '\r\n'),
                    ('POST /r HTTP/1.1\r\n' + H + 'Content-Length: 1\r\nContent-Length: 1\r\n',
                     C + '\r\nx'),
                    ('GET /r HTTP/1.1\r\n' + H + 'If-Match: "a"\r\nIf-Match: "b"\r\n', C + '\r\n'),
                    ('GET /../r HTTP/1.1\r\n', H + C + '\r\n'),
                    ('GET http://a..b/r HTTP/1.1\r\n', H + C + '\r\n'),
                    ('GET http://a/r HTTP/1.1\r\nHost: a/b\r\n', C + '\r\n'),
                    ('POST /r HTTP/1.1\r\n' + H + 'Content-Length: x\r\n', C + '\r\n'),
                    ('POST /r HTTP/1.1\r\n' + H + 'Transfer-Encoding: y\r\n', C + '\r\n')]:
    add('refused at line %r' % first[-32:], first + rest, 'port1', (len(first),))

# --- a header line ignore_invalid_headers skips is logged at that line, as nginx takes each
# line when it comes: before what a later line or the connection's end brings
X = 'X@Y: 1\r\n'
add('invalid line then too long line', 'GET /r HTTP/1.1\r\n' + H + X + 'X-L: ' + 'a' * 3000 +
    '\r\n' + C + '\r\n')
add('invalid line then bad byte', 'GET /r HTTP/1.1\r\n' + H + X + 'X-A\x00: 1\r\n' + C + '\r\n')
add('invalid line then head never ends', 'GET /r HTTP/1.1\r\n' + H + X)
add('invalid line then a second Host', 'GET /r HTTP/1.1\r\n' + H + X + 'Host: b\r\n' + C + '\r\n',
    'port1', (len('GET /r HTTP/1.1\r\n' + H + X),))
add('invalid lines split', 'GET /r HTTP/1.1\r\n' + H + X + 'A.B: 2\r\n' + C + '\r\n', 'port1',
    (len('GET /r HTTP/1.1\r\n' + H + X),))
U = 'GET /r HTTP/1.1\r\nX_A: 1\r\nHost: noms.test\r\nX_B: 2\r\n'
add('invalid line by the server before and after its Host, split', U + C + '\r\n', 'port1',
    (len(U),))
add('invalid line by the server before and after its Host', U + C + '\r\n')
add('invalid line then a second Host, whole', 'GET /r HTTP/1.1\r\n' + H + X + 'Host: b\r\n' + C +
    '\r\n')
