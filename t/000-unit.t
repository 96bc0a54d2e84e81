# Runs the C unit tests (t/unit/test_*.c, built into objs/unit/ by `make unit`) and passes each
# one's TAP through as a subtest, so that `prove -r t/` covers them too. A test also fails when
# its program dies on a signal, exits nonzero or breaks its plan.
use strict;
use warnings;
use Cwd qw(abs_path);
use File::Basename qw(dirname);
use TAP::Parser;
use Test::More;

my $root = dirname(dirname(abs_path(__FILE__)));
chdir $root or die "chdir $root: $!";

my @srcs = sort glob 't/unit/test_*.c';
plan skip_all => 'no C unit tests in t/unit/' unless @srcs;

# Always ask make: it is a no-op when up to date and keeps us from running stale binaries.
my $build = `make -s unit 2>&1`;
if ($? != 0) {
    fail('make unit');
    diag($build);
    done_testing();
    exit;
}

for my $src (@srcs) {
    my ($name) = $src =~ m{^t/unit/(.+)\.c$};
    my $bin = "objs/unit/$name";

    subtest $name => sub {
        my $parser = TAP::Parser->new({ exec => [$bin], merge => 1 });
        my @other;    # non-TAP output (stderr, sanitizer reports): shown only on failure
        my $failed = 0;

        while (my $r = $parser->next) {
            if ($r->is_test) {
                my $desc = $r->description;
                $desc =~ s/^-\s*//;
                if ($r->has_skip) {
                    Test::More->builder->skip($r->explanation // '');
                    next;
                }
                local $TODO = $r->explanation if $r->has_todo;
                ok($r->is_actual_ok, $desc eq '' ? "test " . $r->number : $desc)
                    or $r->has_todo or $failed++;
            } elsif ($r->is_bailout) {
                fail("Bail out! " . $r->explanation);
                $failed++;
            } elsif ($r->is_comment) {
                note($r->as_string);
            } elsif ($r->is_unknown) {
                push @other, $r->as_string;
            }
        }

        my $wait = $parser->wait // 0;
        my $status = ($wait & 127) ? "killed by signal " . ($wait & 127) : "exit code " . ($wait >> 8);
        $failed++, diag("$name: $status") unless ok($wait == 0, "$name exits with status 0");

        my @errors = $parser->parse_errors;
        $failed++ unless ok(!@errors, "$name output is valid TAP with a correct plan");
        diag($_) for @errors;

        diag(join "\n", @other) if $failed && @other;
    };
}

done_testing();
