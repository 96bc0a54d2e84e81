# docs/directives.md and docs/lua-api.md are what `make docs` makes of the code as it is now
# (tools/docgen.c): a directive or an ngx.* function added, removed or changed without
# `make docs` fails here.
use strict;
use warnings;
use Test::More;
use Test::Moongate ();

plan skip_all => 'the docs are moongate\'s' if $Test::Moongate::Binary =~ /nginx/;

my $root = $Test::Moongate::RepoRoot;
my ($code, $out, $err) = Test::Moongate::run_cmd({ timeout => 300 }, 'make', '-s', '-C', $root,
                                                 'objs/docgen');
is($code, 0, 'objs/docgen builds') or diag("$out$err");

for my $doc (['directives.md'], ['lua-api.md', '--lua']) {
    my ($file, @args) = @$doc;
    my ($c, $text, $e) = Test::Moongate::run_cmd("$root/objs/docgen", @args);
    is($c, 0, "docgen @args runs") or diag($e);
    my $kept = Test::Moongate::slurp("$root/docs/$file");
    ok($kept eq $text, "docs/$file is up to date (run `make docs`)") or do {
        my @a = split /\n/, $kept;
        my @b = split /\n/, $text;
        for my $i (0 .. ($#a > $#b ? $#a : $#b)) {
            no warnings 'uninitialized';
            next if $a[$i] eq $b[$i];
            diag("first difference, line " . ($i + 1) . ":\n  docs/$file: $a[$i]\n  now: $b[$i]");
            last;
        }
    };
}

like(Test::Moongate::slurp("$root/docs/directives.md"), qr/^\| `handler` \| location \| 1 \|/m,
     'a directive is listed with its contexts and arguments');
like(Test::Moongate::slurp("$root/docs/directives.md"),
     qr/^\| `keepalive_timeout` \| http, server, location \| 1 to 2 \| /m,
     'keepalive_timeout is listed');
like(Test::Moongate::slurp("$root/docs/lua-api.md"),
     qr/^\| `ngx\.say` \|  \|  \|  \| x \| x \| x \|  \|  \|  \|  \|  \|  \|$/m,
     'ngx.say: rewrite, access and content only');
like(Test::Moongate::slurp("$root/docs/lua-api.md"),
     qr/^\| `ngx\.balancer\.set_current_peer` \|(  \|){11} x \|$/m,
     'a function of require "ngx.balancer": balancer_by_lua only');

done_testing();
