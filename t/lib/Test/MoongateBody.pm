package Test::MoongateBody;

# Response body helpers of the filter and proxy tests (gzip, gunzip, sub_filter, addition,
# charset, slice, ssi, proxy streaming), imported into main so that blocks name them
# (--- response_body_filters: gunzip, \&::gunzip, ::md5_len(...)).
#
#   use Test::MoongateBody;

use strict;
use warnings;
use Digest::MD5 ();
use IO::Uncompress::Gunzip ();
use Exporter 'import';

our @EXPORT = qw(gunzip gunzip_md5 md5_len as_pattern echoed_body);

# "MD5HEX LENGTH" of a body
sub md5_len { my $b = shift; Digest::MD5::md5_hex($b) . " " . length($b) }

# a gzip body decompressed, or "gunzip failed: WHY"
sub gunzip {
    my $in = shift;
    my $out;
    IO::Uncompress::Gunzip::gunzip(\$in => \$out)
        or return "gunzip failed: $IO::Uncompress::Gunzip::GunzipError";
    return $out;
}

# md5_len of a gzip body decompressed, or "gunzip failed"
sub gunzip_md5 {
    my $in = shift;
    my $out;
    IO::Uncompress::Gunzip::gunzip(\$in => \$out) or return "gunzip failed";
    md5_len($out);
}

# "LENGTH pattern" when the body is Test::MoongateBackend's pattern(LENGTH), else "LENGTH differs"
sub as_pattern {
    my $b = shift;
    require Test::MoongateBackend;
    return length($b) . ($b eq Test::MoongateBackend::pattern(length $b) ? ' pattern' : ' differs');
}

# the request body an echo backend saw (after the echoed head)
sub echoed_body {
    my $b = shift;
    my $i = index($b, "\n\n");
    return $i < 0 ? "no head in \"$b\"" : substr($b, $i + 2);
}

1;
