package Test::MoongateCache;

# The scripted upstream of the proxy_cache tests (t/610, t/614, t/626, t/98x, t/99x): a second
# server of the tested binary on $TEST_NGINX_PORT2 (a free port picked on load) whose
# location / runs the file's Lua with `a` (the request's arguments) and `n` (how many
# requests it got for the URI, counted in the shared dict "hits", so that a body saying n=1
# twice was served from the cache the second time) and reply(body) (sends body with its
# Content-Length), written indented by 4. Every block gets it before its own http_config.
#
#   use Test::MoongateCache;
#   cache_upstream(<<'_LUA_', sleep => 1);
#       if a.cc then ngx.header["Cache-Control"] = a.cc end
#       reply(ngx.var.uri .. " n=" .. n .. "\n")
#   _LUA_
#
# Options: server => lines put in the upstream's server{} before location /; sleep => 1: each
# block's config gets a location = /sleep that answers "slept" once the clock's second is two
# past the one it came in (1 to 2 s: an entry of a second, cached before, expires meanwhile,
# its expiry being whole seconds); timeout => N: a block without --- timeout gets N; header_args =>
# 1: each h=Name:Value argument is a header line of the answer, in order (a name given twice,
# two lines), set before the file's Lua runs; cache => 1: a block without its own http_config
# and config gets a zone c1 and a location / that proxies to the upstream through it, with
# its $upstream_cache_status in X-Cache.

use strict;
use warnings;
use Test::Moongate ();
use Exporter 'import';

our @EXPORT = qw(cache_upstream);

our $Port2 = Test::Moongate::env_port('TEST_NGINX_PORT2');

# header_args's Lua
our $HeaderArgs = <<'_LUA_';
    local h = a.h or {}
    if type(h) == "string" then h = { h } end
    local lines, names = {}, {}
    for _, l in ipairs(h) do
        local name, value = l:match("^([^:]+):(.*)$")
        if not lines[name] then lines[name] = {} names[#names + 1] = name end
        table.insert(lines[name], value)
    end
    for _, name in ipairs(names) do
        ngx.header[name] = #lines[name] == 1 and lines[name][1] or lines[name]
    end
_LUA_

# cache's http_config and config
our $CacheHttp = <<'_EOC_';
    proxy_cache_path $TEST_NGINX_SERVROOT/c1 keys_zone=c1:1m;
_EOC_
our $CacheConfig = <<'_EOC_';
    location / {
        proxy_pass http://127.0.0.1:$TEST_NGINX_PORT2;
        proxy_cache c1;
        add_header X-Cache $upstream_cache_status;
    }
_EOC_

our $Sleep = <<'_EOC_';
    location = /sleep {
        content_by_lua_block {
            ngx.update_time()
            local now = ngx.now()
            ngx.sleep(math.floor(now) + 2.02 - now)
            ngx.say("slept")
        }
    }
_EOC_

# the http{} lines of the upstream that runs $lua
sub upstream_http {
    my ($lua, %o) = @_;
    $lua =~ s/^(?=.)/            /mg;    # the file indents it by 4
    my $server = $o{server} // '';
    return <<_EOC_;
    lua_shared_dict hits 1m;
    server {
        listen 127.0.0.1:\$TEST_NGINX_PORT2;
$server        location / {
            content_by_lua_block {
                local a = ngx.req.get_uri_args()
                local n = ngx.shared.hits:incr(ngx.var.uri, 1, 0)
                local function reply(body)
                    ngx.header["Content-Length"] = #body
                    ngx.print(body)
                end
$lua            }
        }
    }
_EOC_
}

sub cache_upstream {
    my ($lua, %o) = @_;
    $lua = $HeaderArgs . $lua if $o{header_args};
    my $http = upstream_http($lua, %o);
    Test::Moongate::add_block_preprocessor(sub {
        my $block = shift;
        if ($o{cache} && !defined $block->http_config && !defined $block->config) {
            $block->set_value(http_config => $CacheHttp);
            $block->set_value(config => $CacheConfig);
        }
        $block->set_value(http_config => $http . ($block->http_config // ''));
        $block->set_value(config => $Sleep . ($block->config // '')) if $o{sleep};
        $block->set_value(timeout => $o{timeout}) if $o{timeout} && !defined $block->timeout;
    });
}

1;
