# HTTP/2 checks for Test::Moongate blocks: a block's "--- h2_cmd" (a shell command: curl,
# h2load, nghttp) or "--- h2_py" (Python with t/lib/h2util.py's Client, python3-h2) runs once
# the server is up; its output is compared with "--- h2_out" (exact) or "--- h2_out_like"
# (a regex). The block's HTTP/1 request is ignored unless it has one of its own checks.
package Test::Moongate::H2;
use strict;
use warnings;
use Test::Moongate;
use Test::More ();

my $Lib = Test::Moongate::repo_root() . '/t/lib';

sub run_client {
    my ($block) = @_;
    my $name = $block->name;
    my $out;
    if (defined(my $py = $block->h2_py)) {
        my $file = Test::Moongate::servroot() . '/h2_test.py';
        open my $fh, '>', $file or die "$file: $!";
        print $fh "import sys\nsys.path.insert(0, '$Lib')\nfrom h2util import *\n"
            . Test::Moongate::expand_env($py);
        close $fh;
        # Debian's python3 has python3-h2 (a python3 earlier on PATH may not)
        my $py3 = -x "/usr/bin/python3" ? "/usr/bin/python3" : "python3";
        $out = `timeout 60 $py3 $file 2>&1`;
    } else {
        my $cmd = Test::Moongate::expand_env($block->h2_cmd);
        chomp $cmd;
        $out = `timeout 60 sh -c '$cmd' 2>&1`;
    }
    if (defined(my $want = $block->h2_out)) {
        Test::More::is($out, Test::Moongate::expand_env($want), "$name - h2 client output");
    }
    if (defined(my $re = $block->h2_out_like)) {
        chomp $re;
        Test::More::like($out, qr/$re/ms, "$name - h2 client output matches");
    }
}

# h2_blocks(%o): each block of the file listens with http2 unless it names its listen_options;
# no_error_log => TEXT for the blocks without one; py_head => Python (helpers) put before each
# "--- h2_py"; then => URI: each h2_py ends by asking for URI on a new connection and printing
# "then STATUS" (the worker still serves)
sub h2_blocks {
    my %o = @_;
    my $tail = defined $o{then} ? "c = Client(\$TEST_NGINX_SERVER_PORT)\na = c.request('$o{then}')\n"
                                  . "c.wait(a)\nprint('then', c.streams[a].status)\n" : '';
    add_block_preprocessor(sub {
        my $block = shift;
        $block->set_value(listen_options => 'http2') unless defined $block->listen_options;
        $block->set_value(no_error_log => $o{no_error_log})
            if defined $o{no_error_log} && !defined $block->no_error_log;
        my $py = $block->h2_py;
        $block->set_value(h2_py => ($o{py_head} // '') . $py . $tail)
            if defined $py && (defined $o{py_head} || length $tail);
    });
}

# h2_raw_blocks(CONFIG): every block listens with http2 under CONFIG (its server's lines) and
# its "--- h2_py" starts with t/lib/h2raw.py's frame writers imported and P the port
sub h2_raw_blocks {
    my $config = shift;
    add_block_preprocessor(sub {
        my $block = shift;
        $block->set_value(listen_options => 'http2');
        $block->set_value(config => $config);
        $block->set_value(h2_py => "from h2raw import *\nP = \$TEST_NGINX_SERVER_PORT\n"
                                   . $block->h2_py);
    });
}

sub import {
    no strict 'refs';
    *{caller() . '::h2_blocks'} = \&h2_blocks;
    *{caller() . '::h2_raw_blocks'} = \&h2_raw_blocks;
    add_known_sections(qw(h2_cmd h2_py h2_out h2_out_like));
    add_block_preprocessor(sub {
        my $block = shift;
        return unless defined $block->h2_cmd || defined $block->h2_py;
        my $init = $block->init;
        $block->set_value(init => sub {
            if (defined $init) {
                ref $init eq 'CODE' ? $init->() : eval "package main; $init; 1" || die $@;
            }
            run_client($block);
        });
        unless (defined $block->request || defined $block->raw_request) {
            $block->set_value(request => "GET /");
            $block->set_value(ignore_response => 1);
        }
    });
}

1;
