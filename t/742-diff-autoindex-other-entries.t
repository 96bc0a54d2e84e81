# Found by running the same configs on Debian's nginx 1.22 and moongate: in the JSON and XML
# listings an entry neither a directory nor a regular file (a fifo, a dangling or looping
# symlink, listed as itself) is of type "other" (<other> in XML) and has no size, as nginx
# writes it. Before: moongate called it a file with the link's or fifo's size.
#
#   prove -I t/lib t/742-diff-autoindex-other-entries.t
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/742-diff-autoindex-other-entries.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;
use POSIX qw(mkfifo);

plan 'no_plan';

# the entries no user_files line makes, all with one time (lutimes: the links' own)
sub make_entries {
    my $d = "$ENV{TEST_NGINX_HTML_DIR}/d";
    mkfifo("$d/fifo", 0644) or die "mkfifo: $!";
    symlink('nowhere', "$d/dangling") or die "symlink: $!";
    symlink('a.txt', "$d/link") or die "symlink: $!";
    system('touch', '-h', '-d', '2017-07-14 02:40:00 UTC', "$d/fifo", "$d/dangling") == 0 or die "touch";
}

run_tests();

__DATA__

=== TEST 1: JSON: "other", no size; a symlink to a file is the file
--- config
    location / { root $TEST_NGINX_HTML_DIR; autoindex on; autoindex_format json; }
--- user_files
>>> d/a.txt 201707140240.00
a
--- init
main::make_entries();
--- request
GET /d/
--- response_body eval
"[\r\n{ \"name\":\"a.txt\", \"type\":\"file\", \"mtime\":\"Fri, 14 Jul 2017 02:40:00 GMT\", \"size\":2 },\r\n"
. "{ \"name\":\"dangling\", \"type\":\"other\", \"mtime\":\"Fri, 14 Jul 2017 02:40:00 GMT\" },\r\n"
. "{ \"name\":\"fifo\", \"type\":\"other\", \"mtime\":\"Fri, 14 Jul 2017 02:40:00 GMT\" },\r\n"
. "{ \"name\":\"link\", \"type\":\"file\", \"mtime\":\"Fri, 14 Jul 2017 02:40:00 GMT\", \"size\":2 }\r\n]"



=== TEST 2: XML: <other>, no size
--- config
    location / { root $TEST_NGINX_HTML_DIR; autoindex on; autoindex_format xml; }
--- user_files
>>> d/a.txt 201707140240.00
a
--- init
main::make_entries();
--- request
GET /d/
--- response_body eval
"<?xml version=\"1.0\"?>\r\n<list>\r\n"
. "<file mtime=\"2017-07-14T02:40:00Z\" size=\"2\">a.txt</file>\r\n"
. "<other mtime=\"2017-07-14T02:40:00Z\">dangling</other>\r\n"
. "<other mtime=\"2017-07-14T02:40:00Z\">fifo</other>\r\n"
. "<file mtime=\"2017-07-14T02:40:00Z\" size=\"2\">link</file>\r\n"
. "</list>\r\n"
