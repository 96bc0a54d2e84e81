package Test::MoongateDrive;

# A client inside the server, for the tests of when filtered output leaves (t/953, t/955):
# GET /drive?p=PATH reads PATH from the same server through a cosocket while PATH's upstream
# waits for a word after each part. The upstream (the test's own /up, its body differs) sends
# part0, waits until the shared dict "rec" has go1, sends part1, waits for go2, ends with
# <p>end</p>. /drive gives go1 once part0 came (or 1.5 s passed), then waits 1.5 s for
# part1 before it gives go2: "part1 before the end: yes" when part1 left at once, "no" when
# it was held until the upstream finished; "whole": the end came; "x left": an "xxx" of the
# upstream's padding reached the client.
#
#   use Test::MoongateDrive;
#   --- http_config eval: $Test::MoongateDrive::Http
#   --- config eval: $Test::MoongateDrive::Location . q{ location /up {...} location /p {...} }

use strict;
use warnings;

our $Http = <<'EOT';
    lua_shared_dict rec 1m;
EOT

our $Location = <<'EOT';
    location /drive {
        content_by_lua_block {
            local rec = ngx.shared.rec
            rec:delete("go1")
            rec:delete("go2")
            local s = ngx.socket.tcp()
            s:settimeout(2000)
            assert(s:connect("127.0.0.1", ngx.var.server_port))
            assert(s:send("GET " .. ngx.var.arg_p .. " HTTP/1.1\r\nHost: x\r\n"
                          .. "Connection: close\r\n\r\n"))
            -- 1.5 s: a loaded machine must not turn a part sent at once into "no"; the
            -- upstream's wait for each word (3 s at least) must stay longer
            s:settimeout(1500)
            local got = ""
            local function wait_for(word)
                while not got:find(word, 1, true) do
                    local d = s:receiveany(65536)
                    if not d then return "no" end
                    got = got .. d
                end
                return "yes"
            end
            wait_for("part0")
            rec:set("go1", 1)
            local early = wait_for("part1")
            rec:set("go2", 1)
            s:settimeout(5000)
            local whole = wait_for("<p>end</p>")
            ngx.say("part1 before the end: ", early, ", whole: ", whole,
                    ", x left: ", got:find("xxx", 1, true) and "yes" or "no")
        }
    }
EOT

1;
