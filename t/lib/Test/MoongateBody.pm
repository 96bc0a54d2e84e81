package Test::MoongateBody;

# Response body helpers of the filter tests (gzip, gunzip, sub_filter, addition, charset,
# slice, ssi), imported into main so that blocks name them (--- response_body_filters: gunzip,
# \&::gunzip, ::md5_len(...)).
#
#   use Test::MoongateBody;

use strict;
use warnings;
use Digest::MD5 ();
use IO::Uncompress::Gunzip ();
use Exporter 'import';

our @EXPORT = qw(gunzip gunzip_md5 md5_len);

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

1;
