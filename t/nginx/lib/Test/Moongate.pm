package Test::Moongate;

# The project's t/*.t files under OpenResty's Test::Nginx::Socket (`make test-nginx`): this
# Test::Moongate, loaded before the file runs (PERL5OPT=-mTest::Moongate: a file's own
# `use lib "t/lib"` comes first in @INC), hands its `use Test::Moongate` to the real harness,
# pointed at objs/moongate as TEST_NGINX_BINARY with no wrapper. It only maps the names the
# project adds (env_to_moongate, add_known_sections, use_bad_conf_blocks) and its two sections
# (moongate_only runs here, the binary being moongate; moongate_skip becomes Test::Base's SKIP).

use strict;
use warnings;
use Cwd ();
use File::Basename ();

my $root = Cwd::abs_path(File::Basename::dirname(Cwd::abs_path(__FILE__)) . '/../../../..');
$ENV{TEST_NGINX_BINARY} ||= $ENV{TEST_MOONGATE_BINARY} || "$root/objs/moongate";
# a directory under t/lib's root (Test::Nginx empties its whole server root: t/lib's per-file
# directories there stopped it). One for all files: PERL5OPT loads this in prove too, whose
# environment (this and the port) the files inherit, so they must not run in parallel (-j).
$ENV{TEST_NGINX_SERVROOT} ||= "$ENV{TEST_MOONGATE_SERVROOT}/test-nginx"
    if $ENV{TEST_MOONGATE_SERVROOT};
# Test::Nginx listens on 1984 unless told: a free port instead, so runs side by side do not collide.
# Test::Nginx::Socket::Lua::Stream listens on the next three (stream_server_config, 2 and 3).
$ENV{TEST_NGINX_PORT} ||= find_free_port(4) unless $ENV{TEST_NGINX_SERVER_PORT};
our $ServerPort = $ENV{TEST_NGINX_SERVER_PORT} || $ENV{TEST_NGINX_PORT};
# Test::Nginx gives each block its own ASan log_path by splitting ASAN_OPTIONS at commas; the
# CI's (and asan-files.sh's) are colon-separated, which ASan takes too: made commas, or every
# server start fails on the mangled options
$ENV{ASAN_OPTIONS} =~ tr/:/,/ if defined $ENV{ASAN_OPTIONS} && $ENV{ASAN_OPTIONS} !~ /,/;

sub import {
    my $caller = caller;
    # no plan here: the files say plan 'no_plan' as Test::Nginx's do
    eval "package $caller; use Test::Nginx::Socket; 1" or die $@;
    # t/lib's harness sets this one; Test::Nginx has only TEST_NGINX_SERVER_ROOT
    $ENV{TEST_NGINX_HTML_DIR} ||= $Test::Nginx::Util::HtmlDir;
    no strict 'refs';
    *{"${caller}::env_to_moongate"} = \&{"${caller}::env_to_nginx"};
    *{"${caller}::use_bad_conf_blocks"} = sub {
        &{"${caller}::add_block_preprocessor"}(\&bad_conf_preprocessor);
    };
    # Test::Base takes any section name; nothing to register
    *{"${caller}::add_known_sections"} = sub { };
    &{"${caller}::add_block_preprocessor"}(sub {
        my $block = shift;
        my $why = $block->{moongate_skip};
        $why = $why->[0] if ref $why;
        return unless defined $why;
        $why =~ s/\s+\z//;
        Test::More::diag("skipped: $why") if $why =~ /\S/;
        $block->set_value(SKIP => 1);
    });
}

# t/lib's use_bad_conf_blocks() with Test::Nginx's paths (the shared module is loaded when a
# block runs: t/lib is in @INC by then, not when this file is)
sub bad_conf_preprocessor {
    require Test::MoongateBadConf;
    my $conf_dir = $Test::Nginx::Util::ConfDir;
    Test::MoongateBadConf::bad_conf_block($_[0], conf_dir => $conf_dir,
                                          conf_file => "$conf_dir/nginx.conf",
                                          port => $ServerPort);
}

# t/lib's helpers that the project's other test modules call
# $count free ports in a row, the first returned. Below the kernel's ephemeral range (32768 up):
# a port the kernel picked (LocalPort 0) has neighbours that outgoing connections take at random.
sub find_free_port {
    my $count = shift || 1;
    require IO::Socket::INET;
    TRY: for my $try (1 .. 100) {
        my $base = 20000 + int(rand(12000));
        for my $port ($base .. $base + $count - 1) {
            IO::Socket::INET->new(Listen => 1, LocalAddr => '127.0.0.1', LocalPort => $port,
                                  ReuseAddr => 1)
                or next TRY;
        }
        return $base;
    }
    die "no $count free ports in a row\n";
}

sub slurp {
    my $f = shift;
    open my $fh, '<:raw', $f or return '';
    local $/;
    my $s = <$fh>;
    return $s // '';
}

1;
