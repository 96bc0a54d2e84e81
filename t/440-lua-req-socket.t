# ngx.req.socket(): the request body as a stream (receive, receiveuntil, what the head's read
# buffered, the body's end as "closed"), its refusals; ngx.req.socket(true): the raw
# connection after the head went out, full duplex.
#
#   prove -I t/lib t/440-lua-req-socket.t
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/440-lua-req-socket.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;
use Test::Moongate::H2;
use Test::Moongate::Certs;

Test::Moongate::Certs::make();

plan 'no_plan';

run_tests();

__DATA__

=== TEST 1: receive(size) reads the body; past its end nil, "closed" and the part
--- config
    location /t {
        content_by_lua_block {
            local sock, err = ngx.req.socket()
            ngx.say("sock: ", type(sock), " ", tostring(err))
            for i = 1, 3 do
                local data, err, part = sock:receive(5)
                ngx.say(tostring(data), " ", tostring(err), " [", tostring(part), "]")
            end
        }
    }
--- request
POST /t
hello world
--- response_body
sock: table nil
hello nil [nil]
 worl nil [nil]
nil closed [d]
--- no_error_log
[error]



=== TEST 2: "*l" lines and "*a" for the rest; "*a" again gives ""
--- config
    location /t {
        content_by_lua_block {
            local sock = ngx.req.socket()
            ngx.say("1: ", sock:receive())
            ngx.say("2: ", sock:receive("*l"))
            ngx.say("3: [", sock:receive("*a"), "]")
            ngx.say("4: [", sock:receive("*a"), "]")
        }
    }
--- request
POST /t
first line
second line
rest of it
and more
--- response_body
1: first line
2: second line
3: [rest of it
and more]
4: []



=== TEST 3: a body that arrives later, in pieces, after what the head's read buffered
--- config
    location /t {
        content_by_lua_block {
            local sock = ngx.req.socket()
            sock:settimeout(5000)
            local data, err = sock:receive(12)
            ngx.say(data, " ", tostring(err))
        }
    }
--- raw_request eval
["POST /t HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nContent-Length: 12\r\n\r\nabc",
 "defg", "hijkl"]
--- raw_request_middle_delay: 0.1
--- response_body
abcdefghijkl nil



=== TEST 4: a multipart body read with receiveuntil (an upload reader)
--- config
    location /t {
        content_by_lua_block {
            local sock = ngx.req.socket()
            local boundary = ngx.var.http_content_type:match("boundary=(%S+)")
            local to_boundary = sock:receiveuntil("\r\n--" .. boundary)
            local preamble = sock:receiveuntil("--" .. boundary)
            preamble()
            sock:receive("*l")
            while true do
                local name
                while true do
                    local line = sock:receive("*l")
                    if line == "" then break end
                    name = line:match('name="([^"]+)"') or name
                end
                local body = to_boundary()
                ngx.say(name, "=", body)
                local tail = sock:receive(2)
                if tail == "--" then break end
            end
            ngx.say("end: [", sock:receive("*a"), "]")
        }
    }
--- more_headers
Content-Type: multipart/form-data; boundary=XyZ
--- request eval
"POST /t\n--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nfirst\r\nvalue\r\n--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"f.txt\"\r\nContent-Type: text/plain\r\n\r\n--X-XyZ--\r\n--XyZ--\r\n"
--- response_body eval
"a=first\r\nvalue\nfile=--X-XyZ--\nend: [\r\n]\n"



=== TEST 5: the body read through the socket is gone: read_body finds nothing, keepalive goes on
--- config
    location /t {
        content_by_lua_block {
            local sock = ngx.req.socket()
            local d = sock:receive(3)
            ngx.req.read_body()
            ngx.say(d, " ", tostring(ngx.req.get_body_data()))
        }
    }
--- pipelined_requests eval
["POST /t\nabcdef", "POST /t\nxyz"]
--- response_body eval
["abc nil\n", "xyz nil\n"]



=== TEST 6: refusals: no body, a body read before, a second call, a subrequest
--- config
    location /nobody {
        content_by_lua_block { ngx.say(ngx.req.socket()) }
    }
    location /read {
        content_by_lua_block {
            ngx.req.read_body()
            ngx.say(ngx.req.socket())
        }
    }
    location /twice {
        content_by_lua_block {
            local s = ngx.req.socket()
            ngx.say(ngx.req.socket())
        }
    }
    location /sub {
        content_by_lua_block { ngx.req.socket() }
    }
    location /t {
        content_by_lua_block {
            local res = ngx.location.capture("/sub", {method = ngx.HTTP_POST, body = "x"})
            ngx.say(res.status)
        }
    }
--- request eval
["GET /nobody", "POST /read\nabc", "POST /twice\nabc", "POST /t\nabc"]
--- response_body eval
["nilno body\n", "nilrequest body already exists\n", "nilrequest body already exists\n",
 "500\n"]
--- error_log
attempt to read the request body in a subrequest



=== TEST 7: a chunked body is refused; a GET has no body
--- config
    location /t {
        content_by_lua_block { ngx.say(ngx.req.socket()) }
    }
--- raw_request eval
"POST /t HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n"
--- response_body
nilchunked request bodies not supported yet



=== TEST 8: the plain socket has no send; a read past the end is logged as a closed socket
--- config
    location /t {
        content_by_lua_block {
            local sock = ngx.req.socket()
            ngx.say(tostring(sock.send), " ", tostring(sock.close))
            ngx.say(sock:receive("*a"))
            ngx.say(sock:receive(1))
            ngx.say(sock:receive(1))
        }
    }
--- request
POST /t
ab
--- response_body
nil nil
ab
nilclosed
nilclosed
--- error_log
attempt to receive data on a closed socket



=== TEST 9: read timeout: nil, "timeout"; the socket stays usable
--- config
    location /t {
        content_by_lua_block {
            local sock = ngx.req.socket()
            sock:settimeout(200)
            ngx.say(sock:receive(6))
            sock:settimeout(5000)
            ngx.say(sock:receive(4))
        }
    }
--- raw_request eval
["POST /t HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nContent-Length: 6\r\n\r\nab", "cdef"]
--- raw_request_middle_delay: 0.6
--- response_body
niltimeoutab
cdef
--- error_log
lua tcp socket read timed out



=== TEST 10: raw: after the head is flushed the code talks to the client both ways
--- config
    location /t {
        content_by_lua_block {
            ngx.header.content_length = 15
            ngx.send_headers()
            ngx.flush(true)
            local sock, err = ngx.req.socket(true)
            if not sock then
                ngx.log(ngx.ERR, "no raw socket: ", err)
                return
            end
            sock:send("ready\n")
            local line = sock:receive()
            sock:send({"got ", line, "\n"})
            local ok, err = ngx.say("after")
            ngx.log(ngx.WARN, "say after raw: ", tostring(ok))
        }
    }
--- raw_request eval
["GET /t HTTP/1.1\r\nHost: localhost\r\n\r\n", "ping\n"]
--- raw_request_middle_delay: 0.2
--- response_body_like chomp
^ready\ngot ping\n$
--- error_log
say after raw: nil
--- no_error_log
[error]



=== TEST 11: raw: a second call is a duplicate; the raw socket reads what follows the body
--- config
    location /t {
        content_by_lua_block {
            ngx.req.read_body()
            ngx.header.content_length = 25
            ngx.send_headers()
            ngx.flush(true)
            local sock = ngx.req.socket(true)
            local s2, err = ngx.req.socket(true)
            local extra = sock:receive(4)
            sock:send("[" .. ngx.req.get_body_data() .. "] " .. tostring(err) .. " " .. extra)
        }
    }
--- raw_request eval
"POST /t HTTP/1.1\r\nHost: localhost\r\nContent-Length: 3\r\n\r\nabcWXYZ"
--- response_body chomp
[abc] duplicate call WXYZ



=== TEST 12: HTTP/2 streams are refused, plain and raw, with an error
--- listen_options: http2
--- config
    location /t {
        content_by_lua_block {
            -- the body read first: a response that ends while the client still sends DATA is
            -- followed by RST_STREAM(NO_ERROR), which curl reports as a failure (exit 92) on
            -- moongate and nginx alike, depending on which comes first
            ngx.req.read_body()
            local ok, err = pcall(ngx.req.socket)
            local rok, rerr = pcall(ngx.req.socket, true)
            ngx.say(ok, " ", err, "; ", rok, " ", rerr)
        }
    }
--- h2_cmd
curl -s --http2-prior-knowledge --data-binary abc "http://127.0.0.1:$TEST_NGINX_SERVER_PORT/t"
--- h2_out
false http v2 not supported yet; false http v2 not supported yet



=== TEST 13: over TLS the socket reads the decrypted body
--- ssl
--- config
    location /t {
        content_by_lua_block {
            local sock = ngx.req.socket()
            ngx.say(sock:receive(5), "|", sock:receive("*a"))
        }
    }
--- request
POST /t
hello, tls
--- response_body
hello|, tls
