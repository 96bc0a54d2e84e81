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

our @EXPORT = qw(gunzip gunzip_strict gunzip_md5 md5_len as_pattern echoed_body);

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

# gunzip, but the body must be exactly one gzip member with nothing after it, whose trailer
# zlib checks (its CRC-32 and length, which gunzip does not look at), or
# "gunzip_strict failed: WHY"
sub gunzip_strict {
    my $in = shift;
    require Compress::Raw::Zlib;
    my ($z, $rc) = Compress::Raw::Zlib::Inflate->new(
        -WindowBits => Compress::Raw::Zlib::WANT_GZIP(), -ConsumeInput => 1, -LimitOutput => 0);
    return "gunzip_strict failed: $rc" unless $z;
    $rc = $z->inflate($in, my $out);
    return "gunzip_strict failed: " . ("$rc" || "truncated") if $rc != Compress::Raw::Zlib::Z_STREAM_END();
    return "gunzip_strict failed: " . length($in) . " bytes after the member" if length $in;
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
