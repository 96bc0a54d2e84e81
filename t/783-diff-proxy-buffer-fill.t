# A buffered proxied response (proxy_buffering on) as Debian's nginx 1.22 passes it on: a
# buffer goes to the client only once it is full, the head buffer (proxy_buffer_size, the
# head in it) first, then proxy_buffers' ones, unless it holds the body's end (a Content-Length
# met, the upstream's close); a chunked body goes on at each read. The upstream here is a Lua
# handler on a raw socket that sends a head and pieces of a body, each after a flag the test
# sets (a request to /go), so every check waits on what came, not on time: once the upstream
# says its piece is sent (a request to /sent) and the bytes expected are there (5 s at most),
# what arrives is read for 0.3 s more to see that no more came (nothing expected: the same).
#
#   prove -I t/lib t/783-diff-proxy-buffer-fill.t
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/783-diff-proxy-buffer-fill.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;
use Test::MoongateBackend;
use IO::Select;

# body bytes after the head in $all ('nothing' when the head has not come)
sub body_len {
    my $all = shift;
    my $h = index($all, "\r\n\r\n");
    return $h < 0 ? (length $all ? "part of a head" : 'nothing') : length($all) - $h - 4;
}

# GET $path on a connection of its own (HTTP/1.0: the body as it is): the body ('' without one)
sub get_body {
    my $g = client_connect();
    client_send($g, "GET $_[0] HTTP/1.0\r\nHost: localhost\r\n\r\n");
    my $raw = client_read($g, undef, 5);
    my $h = index($raw, "\r\n\r\n");
    return $h < 0 ? '' : substr($raw, $h + 4);
}

# once the upstream sent piece $piece of $key (5 s at most) and body_len reached $want (5 s
# at most), read $s until 0.3 s pass without more; returns what came
sub read_stage {
    my ($s, $all, $want, $key, $piece) = @_;
    my $sel = IO::Select->new($s);
    my $deadline = Time::HiRes::time() + 5;
    until (get_body("/sent?k=$key&i=$piece") eq 'yes' || Time::HiRes::time() > $deadline) {
        Time::HiRes::sleep(0.01);
    }
    while ($want ne 'nothing' && Time::HiRes::time() < $deadline) {
        my $l = body_len($$all);
        last if $l =~ /^\d+$/ && $l >= $want;
        next unless $sel->can_read(0.05);
        my $n = sysread($s, my $buf, 65536);
        last unless $n;
        $$all .= $buf;
    }
    while ($sel->can_read(0.3)) {
        my $n = sysread($s, my $buf, 65536);
        last unless $n;
        $$all .= $buf;
    }
    return body_len($$all);
}

# GET $path; before each flag, what the client had: body lengths, joined with spaces
sub stages {
    my ($path, $key, @want) = @_;
    my $s = client_connect();
    client_send($s, "GET $path?k=$key HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
    my ($all, @got) = ('');
    for my $i (0 .. $#want) {
        push @got, read_stage($s, \$all, $want[$i], $key, $i + 1);
        last if $i == $#want;
        get_body("/go?k=$key$i");
    }
    return "@got";
}

add_block_preprocessor(sub {
    my $b = shift;
    $b->set_value(http_config => 'lua_shared_dict go 1m;' . ($b->http_config // ''));
    $b->set_value(request => 'GET /go?k=none');
    $b->set_value(response_body => '');
    # /up?m=cl|chunked|close&p=N,N,...: the head, then the pieces of N bytes of "x", each but
    # the first after /go?k=KEY<i>; KEY comes as X-K; /sent?k=KEY&i=I: "yes" once piece I went
    $b->set_value(config => <<'EOF2' . $b->config);
    proxy_set_header X-K $arg_k;
    location /go { content_by_lua_block { ngx.shared.go:set(ngx.var.arg_k, 1) } }
    location /sent {
        content_by_lua_block {
            ngx.print(ngx.shared.go:get("sent " .. ngx.var.arg_k .. " " .. ngx.var.arg_i) and "yes" or "no")
        }
    }
    location /up {
        content_by_lua_block {
            local sock = ngx.req.socket(true)
            local k, m, parts, total = ngx.var.http_x_k, ngx.var.arg_m, {}, 0
            for p in ngx.var.arg_p:gmatch("%d+") do
                parts[#parts + 1] = tonumber(p)
                total = total + tonumber(p)
            end
            local head = "HTTP/1.1 200 OK\r\n"
                .. (m == "cl" and "Content-Length: " .. total .. "\r\n" or "")
                .. (m == "chunked" and "Transfer-Encoding: chunked\r\n" or "")
                .. "Connection: close\r\n\r\n"
            for i, p in ipairs(parts) do
                local d = string.rep("x", p)
                if m == "chunked" then
                    d = string.format("%x\r\n", p) .. d .. "\r\n" .. (i == #parts and "0\r\n\r\n" or "")
                end
                sock:send(i == 1 and head .. d or d)
                ngx.shared.go:set("sent " .. k .. " " .. i, 1)
                for j = 1, i < #parts and 500 or 0 do
                    if ngx.shared.go:get(k .. (i - 1)) then break end
                    ngx.sleep(0.01)
                end
            end
        }
    }
EOF2
});

run_tests();

__DATA__

=== TEST 1: Content-Length: a buffer goes on when full, the head buffer first; the last at the end
--- config
    location /t { proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/up?m=cl&p=3000,3000,3000,3000,8000; }
--- init
# the head is 61 bytes: 4035 body bytes fill the 4k head buffer, 4096 each proxy buffer
Test::More::is(main::stages('/t', 'cl', 'nothing', 4035, 8131, 8131, 20000),
               'nothing 4035 8131 8131 20000', 'TEST 1: what the client had at each step');



=== TEST 2: no length (the upstream's close ends it): the same, chunked to the client
--- config
    location /t { proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/up?m=close&p=3000,3000,3000,3000,8000; }
--- init
# a 38-byte head, so 4058 bytes in the first chunk ("fda"), then 4096 ("1000"), then the rest
# in one, as it all came in one event: 4065, 8169, then 20000 + 7 + 8 + 8 + 5
Test::More::is(main::stages('/t', 'close', 'nothing', 4065, 8169, 8169, 20028),
               'nothing 4065 8169 8169 20028', 'TEST 2: what the client had at each step');



=== TEST 3: a chunked upstream body goes on at each read
--- config
    location /t {
        proxy_http_version 1.1;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/up?m=chunked&p=3000,3000,3000,3000,8000;
    }
--- init
Test::More::is(main::stages('/t', 'chunked', 3007, 6014, 9021, 12028, 20041),
               '3007 6014 9021 12028 20041', 'TEST 3: what the client had at each step');



=== TEST 4: larger proxy_buffers: the head buffer, then 16k ones (busy buffers' default follows them)
--- config
    location /t {
        proxy_buffers 4 16k;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/up?m=cl&p=3000,3000,3000,10000,8000;
    }
--- init
Test::More::is(main::stages('/t', 'big', 'nothing', 4035, 4035, 4035, 27000),
               'nothing 4035 4035 4035 27000', 'TEST 4: what the client had at each step');



=== TEST 5: a body that never fills a buffer comes whole at its end
--- config
    location /t { proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/up?m=cl&p=100,100,100,100; }
--- init
Test::More::is(main::stages('/t', 'small', 'nothing', 'nothing', 'nothing', 400),
               'nothing nothing nothing 400', 'TEST 5: what the client had at each step');



=== TEST 6: proxy_buffer_size sets the first buffer
--- config
    location /t {
        proxy_buffer_size 8k;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/up?m=cl&p=3000,3000,3000,3000,8000;
    }
--- init
# 8192 - 61 = 8131 in the head buffer; 3869 after it do not fill a 4096 one
Test::More::is(main::stages('/t', 'hb', 'nothing', 'nothing', 8131, 8131, 20000),
               'nothing nothing 8131 8131 20000', 'TEST 6: what the client had at each step');
