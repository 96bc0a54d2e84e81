# resty.core.base in stream{}'s VM, as stream-lua-nginx-module's lua-resty-core gives it:
# allows_subsystem names "stream", the stream request types libraries' ffi.cdef lines use are
# declared, get_request is a session's (and a timer's) and nil in init_by_lua, ngx.ctx and
# ctx.get_ctx_table are the session's.
# moongate only: Debian has no stream Lua module (the http side is t/921).
use strict;
use warnings;
use Test::Moongate ();
use Test::MoongateProc;
use Test::MoongateStream;
use Test::More;

plan skip_all => 'stream Lua: moongate only (Debian has no stream-lua module for nginx)'
    if is_nginx();

my $port = Test::Moongate::find_free_port();
my $s = Test::MoongateProc->new(name => 'stream_resty_base', workers => 1);
$s->write_conf(stream => <<"EOF");
    lua_shared_dict d 1m;
    init_by_lua_block {
        local base = require "resty.core.base"
        ngx.shared.d:set("init", tostring((base.get_request())))
    }
    server { listen 127.0.0.1:$port;
        preread_by_lua_block {
            local get_ctx_table = require("resty.core.ctx").get_ctx_table
            get_ctx_table({ r = require("resty.core.base").get_request() })
        }
        content_by_lua_block {
            local ffi = require "ffi"
            local base = require "resty.core.base"
            local r = base.get_request()
            ngx.say("request: ", type(r), " ", r == ngx.ctx.r)
            local ok, err = pcall(function() base.allows_subsystem("http") end)
            ngx.say(ok, " ", err:match(":%d+: (unsupported subsystem: stream)\$"))
            ngx.say(select("#", base.allows_subsystem("http", "stream")))
            ngx.say(ffi.sizeof("ngx_stream_lua_ffi_str_t"), " ",
                    (pcall(ffi.typeof, "ngx_stream_lua_request_t")), " ",
                    (pcall(ffi.typeof, "ngx_http_request_t")))
            local d = ngx.shared.d
            assert(ngx.timer.at(0, function()
                ngx.ctx.t = "timer"
                d:set("timer", tostring(base.get_request() ~= nil) .. " " .. ngx.ctx.t)
            end))
            for _ = 1, 200 do
                if d:get("timer") then break end
                ngx.sleep(0.01)
            end
            ngx.say("init: ", d:get("init"), ", timer: ", d:get("timer"), ", ", ngx.ctx.t)
        }
    }
EOF
$s->start or stop_here('the server did not start');

is((exchange($port, undef))[0],
   "request: cdata true\n"
   . "false unsupported subsystem: stream\n"
   . "0\n"
   . "16 true false\n"
   . "init: nil, timer: true timer, nil\n",
   'resty.core.base in stream{}: get_request, allows_subsystem, the stream types; ngx.ctx');
unlike(Test::MoongateProc::slurp($s->error_log), qr/\[error\]/, 'no error logged');

$s->stop;
done_testing();
