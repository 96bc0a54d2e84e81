# What the access log writes for the numbers and escapes its per-request path produces without
# printf or a test per byte (issue 16): $status (three digits), $body_bytes_sent and
# $bytes_sent as decimal digits, and log_format's escaping where the bytes to escape begin or
# end a value, come in a row, or are all of it, for escape=default and escape=json.
#
# "--- log_files eval": { file under the server root => qr// or a string }, checked once the
# server has stopped.
#
#   prove -I t/lib t/891-access-log-values.t
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/891-access-log-values.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;

plan 'no_plan';

add_block_preprocessor(sub { unlink glob("$LogDir/*.log") });

sub check_log_files {
    my $block = shift;
    my $files = $block->log_files or return;
    for my $f (sort keys %$files) {
        my $path = "$ServRoot/$f";
        my $got = -e $path ? do { local (@ARGV, $/) = $path; <> } : undef;
        my $want = $files->{$f};
        my $name = $block->name . " - $f";
        if (ref $want eq 'Regexp') {
            like($got // '', $want, "$name matches");
        } else {
            is($got, $want, "$name is as expected");
        }
    }
}

add_known_sections(qw(log_files));
Test::Moongate::stop_stale_server();
for my $block (blocks()) {
    run_test($block) or next;
    check_log_files($block); # the server has stopped
}

__DATA__

=== TEST 1: $status, $body_bytes_sent and $bytes_sent of a body, an empty answer and an error page
--- http_config
    log_format n '$uri $status $body_bytes_sent $bytes_sent';
--- config
    access_log logs/n.log n;
    location = /ten { return 200 "0123456789"; }
    location = /none { return 204; }
    location = /big { return 200 "$arg_a$arg_a$arg_a$arg_a$arg_a$arg_a$arg_a$arg_a$arg_a$arg_a"; }
--- request eval
["GET /ten", "GET /none", "GET /missing",
 "GET /big?a=" . ("x" x 1000)]
--- error_code eval
[200, 204, 404, 200]
--- log_files eval
{ 'logs/n.log' => qr{\A/ten 200 10 (\d{3})\n/none 204 0 \d{3}\n/missing 404 [1-9]\d+ \d{3,4}\n/big 200 10000 1\d{4}\n\z} }



=== TEST 2: $bytes_sent is the head and the body
--- http_config
    log_format n '$body_bytes_sent $bytes_sent $sent_http_content_length';
--- config
    access_log logs/n.log n;
    location = /t { return 200 "0123456789"; }
--- request
GET /t
--- response_body chomp
0123456789
--- log_files eval
{ 'logs/n.log' => qr{\A10 (?:1[0-9][0-9]|2[0-9][0-9]) 10\n\z} }



=== TEST 3: escape=default: escaped bytes at a value's start and end, in a row, and alone
--- http_config
    log_format f '[$http_x_a] [$http_x_b] [$http_x_c] [$http_x_d]';
--- config
    access_log logs/f.log f;
    location /t { return 200 "ok\n"; }
--- raw_request eval
"GET /t HTTP/1.1\r\nHost: localhost\r\nX-A: \x01abc\x7f\r\nX-B: \"\\\x02\xff\r\nX-C: plain text, no escape at all\r\nX-D: a\"\"b\\\\c\r\nConnection: close\r\n\r\n"
--- log_files eval
{ 'logs/f.log' => "[\\x01abc\\x7F] [\\x22\\x5C\\x02\\xFF] [plain text, no escape at all] [a\\x22\\x22b\\x5C\\x5Cc]\n" }



=== TEST 4: escape=json: escaped bytes at a value's start and end, in a row, and alone
--- http_config
    log_format f escape=json '[$http_x_a] [$http_x_b] [$http_x_c] [$http_x_d]';
--- config
    access_log logs/f.log f;
    location /t { return 200 "ok\n"; }
--- raw_request eval
"GET /t HTTP/1.1\r\nHost: localhost\r\nX-A: \x01abc\x7f\r\nX-B: \"\\\x02\x08\t\x0c\r\nX-C: plain text, no escape at all\r\nX-D: a\"\"b\\\\c\xc3\xa9\r\nConnection: close\r\n\r\n"
--- log_files eval
{ 'logs/f.log' => "[\\u0001abc\x7f] [\\\"\\\\\\u0002\\b\\t\\f] [plain text, no escape at all] [a\\\"\\\"b\\\\\\\\c\xc3\xa9]\n" }
