# A differential audit with a WordPress config on php-fpm (display_errors off, log_errors on):
# PHP's "FastCGI sent in stderr" line names the phase nginx 1.22 read the record in. A stderr
# record that comes after the stdout that completed the head (PHP echoed something, then
# warned) is read with the body: "while reading upstream", and fastcgi_catch_stderr does not
# apply to it; one before the head is complete is "while reading response header from upstream".
#
#   prove -I t/lib t/820-diff-fastcgi-stderr-phase.t
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/820-diff-fastcgi-stderr-phase.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;
use Test::MoongateBackend;

sub rec { Test::MoongateBackend::fastcgi_record(@_) }
my $end = rec(6, '') . rec(3, "\0" x 8);
backend(late => 'fastcgi',
        script => [rec(6, "Content-Type: text/html\r\n\r\nstart\n") . rec(7, "PHP message: PHP Warning:  late one") . rec(6, "done\n") . $end]);
backend(early => 'fastcgi',
        script => [rec(7, "PHP message: PHP Warning:  early one") . rec(6, "Content-Type: text/html\r\n\r\nstart\n") . $end]);
backend(split => 'fastcgi',
        script => [rec(6, "Content-Type: text/html\r\n") . rec(7, "PHP message: between the lines") . rec(6, "\r\nbody\n") . $end]);

run_tests();

__DATA__

=== TEST 1: a warning after the head: read with the body
--- config
    location / { fastcgi_pass 127.0.0.1:$TEST_NGINX_LATE_PORT; }
--- request
GET /warn.php
--- response_body
start
done
--- error_log eval
qr/\[error\] .*FastCGI sent in stderr: "PHP message: PHP Warning:  late one" while reading upstream, client: /
--- no_error_log
while reading response header from upstream



=== TEST 2: a warning before the head: read with the head
--- config
    location / { fastcgi_pass 127.0.0.1:$TEST_NGINX_EARLY_PORT; }
--- request
GET /warn.php
--- response_body
start
--- error_log eval
qr/\[error\] .*FastCGI sent in stderr: "PHP message: PHP Warning:  early one" while reading response header from upstream, client: /



=== TEST 3: between the head's lines: still the head's
--- config
    location / { fastcgi_pass 127.0.0.1:$TEST_NGINX_SPLIT_PORT; }
--- request
GET /x.php
--- response_body
body
--- error_log eval
qr/FastCGI sent in stderr: "PHP message: between the lines" while reading response header from upstream, /



=== TEST 4: fastcgi_catch_stderr is not asked about a record after the head
--- config
    location / {
        fastcgi_pass 127.0.0.1:$TEST_NGINX_LATE_PORT;
        fastcgi_catch_stderr "late one";
    }
--- request
GET /warn.php
--- response_body
start
done
--- error_log eval
qr/FastCGI sent in stderr: "PHP message: PHP Warning:  late one" while reading upstream, /



=== TEST 5: ... and is about one before it: the next upstream, none left: 502
--- config
    location / {
        fastcgi_pass 127.0.0.1:$TEST_NGINX_EARLY_PORT;
        fastcgi_catch_stderr "early one";
    }
--- request
GET /warn.php
--- error_code: 502
--- error_log eval
qr/FastCGI sent in stderr: "PHP message: PHP Warning:  early one" while reading response header from upstream, /
