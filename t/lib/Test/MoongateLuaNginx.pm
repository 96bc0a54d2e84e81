package Test::MoongateLuaNginx;
# Debian's lua-nginx-* libraries for the real-library tests (t/448 on): they depend on
# nginx-extras, so rather than installing them the tests use them unpacked (apt-get download +
# dpkg -x) under t/deps/lua-nginx/, which `./configure --install-deps` fills and lib() fills
# on first use. lib() returns the directory for lua_package_path ("DIR/?.lua;;"), or undef with
# $Why set.
#
#   my $dir = Test::MoongateLuaNginx::lib(qw(lua-nginx-cookie)) or skip ... $Why;

use strict;
use warnings;
use Cwd ();
use File::Basename ();
use File::Path ();

our $Root = Cwd::abs_path(File::Basename::dirname(Cwd::abs_path(__FILE__)) . '/../../..')
    . '/t/deps/lua-nginx';
our $Why;

# the Lua file each package installs, to tell whether it is unpacked already
our %File = (
    'lua-nginx-cookie' => 'nginx/cookie.lua',
    'lua-nginx-dns' => 'nginx/dns/resolver.lua',
    'lua-nginx-kafka' => 'nginx/kafka/producer.lua',
    'lua-nginx-memcached' => 'nginx/memcached.lua',
    'lua-nginx-redis' => 'nginx/redis.lua',
    'lua-nginx-redis-connector' => 'nginx/redis/connector.lua',
    'lua-nginx-string' => 'nginx/string.lua',
    'lua-nginx-websocket' => 'nginx/websocket/server.lua',
);

sub lib {
    my $lua = "$Root/usr/share/lua/5.1";
    my @missing = grep { !-f "$lua/$File{$_}" } @_;
    return $lua unless @missing;
    File::Path::make_path("$Root/debs");
    for my $p (@missing) {
        # apt-get download writes into the current directory; a subshell keeps ours
        my $out = `cd '$Root/debs' && apt-get download $p 2>&1`;
        my ($deb) = sort glob("$Root/debs/${p}_*.deb");
        if (!$deb) {
            $out =~ s/\s+\z//;
            $Why = "Debian's $p could not be fetched (apt-get download: $out)";
            return undef;
        }
        if (system('dpkg', '-x', $deb, $Root) != 0 || !-f "$lua/$File{$p}") {
            $Why = "dpkg -x $deb did not give $lua/$File{$p}";
            return undef;
        }
    }
    return $lua;
}

1;
