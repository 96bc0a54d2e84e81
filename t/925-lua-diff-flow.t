# Flow control of the Lua API found differing from OpenResty's in a side-by-side run with
# Debian's nginx and its Lua module: ngx.exit's refused codes, ngx.exec's URI handling.
#
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/925-lua-diff-flow.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;

plan 'no_plan';
run_tests();

__DATA__

=== TEST 1: ngx.exit refuses NGX_AGAIN and NGX_DONE with an error, in a pcall as elsewhere
--- config
    location /t {
        content_by_lua_block {
            for _, code in ipairs({ngx.AGAIN, ngx.DONE}) do
                local ok, err = pcall(ngx.exit, code)
                ngx.say(code, " ", tostring(ok), " ", (tostring(err):gsub("^.-:%d+: ", "")))
            end
        }
    }
--- request
GET /t
--- response_body
-2 false bad argument to 'ngx.exit': does not accept NGX_AGAIN or NGX_DONE
-4 false bad argument to 'ngx.exit': does not accept NGX_AGAIN or NGX_DONE



=== TEST 2: ngx.exit(ngx.DONE) in the rewrite phase is a 500, not a request left waiting
--- config
    location /t {
        rewrite_by_lua_block { ngx.exit(ngx.DONE) }
        content_by_lua_block { ngx.say("not reached") }
    }
--- request
GET /t
--- error_code: 500
--- error_log
does not accept NGX_AGAIN or NGX_DONE



=== TEST 3: ngx.exit(ngx.AGAIN) in the content phase is a 500 too
--- config
    location /t {
        content_by_lua_block { ngx.exit(ngx.AGAIN) }
    }
--- request
GET /t
--- error_code: 500
--- error_log
does not accept NGX_AGAIN or NGX_DONE
