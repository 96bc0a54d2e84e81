# What the error log says at notice as the server starts, as Debian's nginx 1.22 says it (found
# comparing both servers' logs): the event method as each configuration takes over, then once
# the version (-v's), the system and the open files limit, before the workers start.
#
#   prove -I t/lib t/750-log-diff-startup.t
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/750-log-diff-startup.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;

log_level('notice');

run_tests();

__DATA__

=== TEST 1: the notices of a start, in nginx's words
--- config
    location /t { return 200 "ok\n"; }
--- request
GET /t
--- response_body
ok
--- error_log eval
[
    qr{\[notice\] \d+#\d+: using the "epoll" event method$},
    qr{\[notice\] \d+#\d+: \w+/1\.22\.1\b},
    qr{\[notice\] \d+#\d+: OS: Linux \S+$},
    qr{\[notice\] \d+#\d+: getrlimit\(RLIMIT_NOFILE\): \d+:\d+$},
]
