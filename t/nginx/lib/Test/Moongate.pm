package Test::Moongate;

# The project's t/*.t files under OpenResty's Test::Nginx::Socket (`make test-nginx`): this
# Test::Moongate, found before t/lib's, hands a file's `use Test::Moongate` to the real harness,
# pointed at objs/moongate as TEST_NGINX_BINARY with no wrapper. It only maps the two names the
# project adds (env_to_moongate, add_known_sections) and its two sections (moongate_only runs
# here, the binary being moongate; moongate_skip becomes Test::Base's SKIP).

use strict;
use warnings;
use Cwd ();
use File::Basename ();

my $root = Cwd::abs_path(File::Basename::dirname(Cwd::abs_path(__FILE__)) . '/../../../..');
$ENV{TEST_NGINX_BINARY} ||= $ENV{TEST_MOONGATE_BINARY} || "$root/objs/moongate";
$ENV{TEST_NGINX_SERVROOT} ||= $ENV{TEST_MOONGATE_SERVROOT} if $ENV{TEST_MOONGATE_SERVROOT};
# Test::Nginx listens on 1984 unless told: a free port instead, so runs side by side do not collide
if (!$ENV{TEST_NGINX_PORT} && !$ENV{TEST_NGINX_SERVER_PORT}) {
    require IO::Socket::INET;
    my $s = IO::Socket::INET->new(Listen => 1, LocalAddr => '127.0.0.1', LocalPort => 0)
        or die "no free port: $!";
    $ENV{TEST_NGINX_PORT} = $s->sockport;
}

sub import {
    my $caller = caller;
    eval "package $caller; use Test::Nginx::Socket 'no_plan'; 1" or die $@;
    no strict 'refs';
    *{"${caller}::env_to_moongate"} = \&{"${caller}::env_to_nginx"};
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

1;
