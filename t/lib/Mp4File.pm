package Mp4File;

# Small valid MP4 files for t/188-mp4.t, built atom by atom (ftyp, moov with a video track
# with key frames, composition offsets and varied sample sizes, an audio track with one
# sample size, mdat with each sample's bytes telling track and sample apart), and dump(),
# which prints a response's atom tree (leaf atoms as 32-bit words, mdat as length and MD5)
# so that two outputs compare line by line.

use strict;
use warnings;
use Digest::MD5 qw(md5_hex);
use Exporter 'import';

our @EXPORT_OK = qw(mp4_file mp4_dump mp4_test_files mp4_sample);

sub atom { my ($type, @p) = @_; my $d = join '', @p; pack('N', 8 + length $d) . $type . $d }
sub full { my ($type, $vf, @p) = @_; atom($type, pack('N', $vf), @p) }

# a track: timescale, stts [[count, delta]...], key frames (1-based, undef: no stss), ctts
# [[count, offset]...] or undef, stsc [[first_chunk, per_chunk]...], sizes (array, or a
# single size for all), handler
sub trak_atoms {
    my ($t, $id, $offsets, $co64) = @_;
    my $n = 0;
    my $dur = 0;
    for (@{ $t->{stts} }) { $n += $_->[0]; $dur += $_->[0] * $_->[1] }
    my $stts = full('stts', 0, pack('N', scalar @{ $t->{stts} }), map { pack 'NN', @$_ } @{ $t->{stts} });
    my $stss = $t->{keys} ? full('stss', 0, pack('N', scalar @{ $t->{keys} }), pack('N*', @{ $t->{keys} })) : '';
    my $ctts = $t->{ctts} ? full('ctts', 0, pack('N', scalar @{ $t->{ctts} }), map { pack 'NN', @$_ } @{ $t->{ctts} }) : '';
    my $stsc = full('stsc', 0, pack('N', scalar @{ $t->{stsc} }), map { pack 'NNN', @$_, 1 } @{ $t->{stsc} });
    my $stsz = ref $t->{sizes}
        ? full('stsz', 0, pack('NN', 0, $n), pack('N*', @{ $t->{sizes} }))
        : full('stsz', 0, pack('NN', $t->{sizes}, $n));
    my $stco = $co64
        ? full('co64', 0, pack('N', scalar @$offsets), map { pack 'NN', $_ >> 32, $_ & 0xffffffff } @$offsets)
        : full('stco', 0, pack('N', scalar @$offsets), pack('N*', @$offsets));
    my $stsd = full('stsd', 0, pack('N', 1), atom($t->{vide} ? 'avc1' : 'mp4a', "\0" x 6, pack('n', 1)));
    my $hmhd = $t->{vide} ? full('vmhd', 1, "\0" x 8) : full('smhd', 0, "\0" x 4);
    my $hdlr = full('hdlr', 0, pack('N', 0), $t->{vide} ? 'vide' : 'soun', "\0" x 12, "H\0");
    my $mdhd = full('mdhd', 0, pack('NNNN', 0, 0, $t->{timescale}, $dur), pack('nn', 0x55c4, 0));
    my $tkhd = full('tkhd', 3, pack('NNNNN', 0, 0, $id, 0, int($dur * 1000 / $t->{timescale})),
                    "\0" x 8, pack('nnnn', 0, 0, 0, 0), "\0" x 36, pack('NN', 0, 0));
    if ($t->{v1}) { # 64-bit times and durations
        $mdhd = full('mdhd', 0x01000000, pack('NNNNNNN', 0, 1, 0, 2, $t->{timescale}, 0, $dur),
                     pack('nn', 0x55c4, 0));
        $tkhd = full('tkhd', 0x01000003, pack('NNNNNNNN', 0, 1, 0, 2, $id, 0, 0,
                     int($dur * 1000 / $t->{timescale})), "\0" x 8, pack('nnnn', 0, 0, 0, 0),
                     "\0" x 36, pack('NN', 0, 0));
    }
    my $edts = $t->{edts} ? atom('edts', full('elst', 0, pack('NNNN', 1, int($dur * 1000 / $t->{timescale}), 0, 0x10000))) : '';
    my $sdtp = $t->{sdtp} ? full('sdtp', 0, 'abcd') : '';
    my $udta = $t->{udta} ? atom('udta', 'name') : '';
    return atom('trak', $tkhd, $edts, $udta, atom('mdia', $mdhd, $hdlr,
                atom('minf', $hmhd, atom('dinf', full('dref', 0, pack('N', 1), full('url ', 1))),
                     atom('stbl', $stsd, $sdtp, $stts, $stss, $ctts, $stsc, $stsz, $stco))));
}

# the bytes of track t's sample j (size bytes): its "<t:j>" mark repeated
sub mp4_sample {
    my ($t, $j, $s) = @_;
    my $mark = sprintf('<%d:%d>', $t, $j);
    return substr($mark x (1 + int($s / length $mark)), 0, $s);
}

sub chunk_sizes {
    my ($t) = @_;
    my @sizes = ref $t->{sizes} ? @{ $t->{sizes} } : ();
    my $n = 0;
    $n += $_->[0] for @{ $t->{stts} };
    @sizes = ($t->{sizes}) x $n unless @sizes;
    my @stsc = @{ $t->{stsc} };
    my (@chunks, $i);
    $i = 0;
    for my $k (0 .. $#stsc) {
        my $per = $stsc[$k][1];
        my $last = $k < $#stsc ? $stsc[$k + 1][0] - 1 : 1e9;
        for (my $c = $stsc[$k][0]; $c <= $last && $i < $n; $c++) {
            my @s = @sizes[$i .. $i + $per - 1];
            push @chunks, [$i, \@s];
            $i += $per;
        }
    }
    return \@chunks;
}

# options: tracks => [...], moov_last, co64, mdat64 (a 16-byte mdat header), free (an
# atom before moov)
sub mp4_file {
    my (%o) = @_;
    my @tracks = @{ $o{tracks} };
    my @chunks = map { chunk_sizes($_) } @tracks;
    # interleave the tracks' chunks
    my ($data, @order) = ('');
    my $max = 0;
    $max < @$_ and $max = @$_ for @chunks;
    for my $c (0 .. $max - 1) {
        for my $t (0 .. $#tracks) {
            next unless $chunks[$t][$c];
            my ($first, $sizes) = @{ $chunks[$t][$c] };
            push @order, [$t, length $data];
            my $j = $first;
            $data .= mp4_sample($t, $j++, $_) for @$sizes;
        }
    }
    my $ftyp = atom('ftyp', 'isom', pack('N', 0x200), 'isommp41');
    my $free = $o{free} ? atom('free', 'x' x 8) : '';
    my $mdat_head = $o{mdat64} ? pack('N', 1) . 'mdat' . pack('NN', 0, 16 + length $data)
                               : pack('N', 8 + length $data) . 'mdat';
    my $build = sub {
        my ($base) = @_;
        my @off = map { [] } @tracks;
        push @{ $off[$_->[0]] }, $base + $_->[1] for @order;
        my $dur = 0;
        for my $t (@tracks) {
            my $d = 0;
            $d += $_->[0] * $_->[1] for @{ $t->{stts} };
            $d = int($d * 1000 / $t->{timescale});
            $dur = $d if $d > $dur;
        }
        my $mvhd = full('mvhd', 0, pack('NNNN', 0, 0, 1000, $dur), pack('Nn', 0x10000, 0x100),
                        "\0" x 10, "\0" x 36, "\0" x 24, pack('N', @tracks + 1));
        $mvhd = full('mvhd', 0x01000000, pack('NNNNNNN', 0, 1, 0, 2, 1000, 0, $dur),
                     pack('Nn', 0x10000, 0x100), "\0" x 10, "\0" x 36, "\0" x 24,
                     pack('N', @tracks + 1)) if $o{v1};
        my $udta = $o{udta} ? atom('udta', 'meta') : '';
        return atom('moov', $mvhd, $udta, map { trak_atoms($tracks[$_], $_ + 1, $off[$_], $o{co64}) } 0 .. $#tracks);
    };
    if ($o{moov_last}) {
        my $base = length($ftyp) + length($free) + length($mdat_head);
        return $ftyp . $free . $mdat_head . $data . $build->($base);
    }
    my $len = length $build->(0);
    my $base = length($ftyp) + length($free) + $len + length($mdat_head);
    return $ftyp . $free . $build->($base) . $mdat_head . $data;
}

# t/187-mp4.t's files: video (10 s; 1000 units a second; samples of 0.4 s then 0.6 s; key
# frames 1 6 11 16; composition offsets; 3 then 2 samples a chunk) with audio (7 s, 8000 units
# a second, a size table) in e.mp4; the same with moov last, co64 and a 64-bit mdat in
# f.mp4; a 44100 units audio track (under a second) before the video in g.mp4; atoms nginx
# drops (free, udta, edts, sdtp) in c.mp4; audio alone, and with one size for all samples;
# e.mp4 with version 1 (64-bit) mvhd, tkhd and mdhd in h.mp4
sub mp4_test_files {
    my $video = { vide => 1, timescale => 1000, stts => [[10, 400], [10, 600]],
                  keys => [1, 6, 11, 16], ctts => [[1, 0], [2, 800], [17, 400]],
                  stsc => [[1, 3], [5, 2]], sizes => [map { 100 + $_ * 7 } 0 .. 19] };
    my $audio = { timescale => 8000, stts => [[56, 1000]], stsc => [[1, 10], [6, 6]],
                  sizes => [map { 20 + $_ % 5 } 0 .. 55] };
    my $short = { timescale => 44100, stts => [[40, 1024], [3, 900]],
                  stsc => [[1, 4], [3, 5], [9, 1]], sizes => [map { 30 + $_ % 7 } 0 .. 42] };
    my $const = { %$audio, sizes => 20 };
    my $extra = { %$video, edts => 1, udta => 1, sdtp => 1 };
    return (
        'e.mp4' => mp4_file(tracks => [$video, $audio]),
        'f.mp4' => mp4_file(tracks => [$video, $audio], moov_last => 1, co64 => 1, mdat64 => 1),
        'g.mp4' => mp4_file(tracks => [$short, $video]),
        'c.mp4' => mp4_file(tracks => [$extra, $audio], udta => 1, free => 1),
        'a.mp4' => mp4_file(tracks => [$audio]),
        'k.mp4' => mp4_file(tracks => [$const]),
        'h.mp4' => mp4_file(tracks => [{ %$video, v1 => 1 }, { %$audio, v1 => 1 }], v1 => 1),
    );
}

my %container = map { $_ => 1 } qw(moov trak mdia minf stbl edts dinf);

sub mp4_dump {
    my ($b, $depth) = @_;
    $depth //= 0;
    my $out = '';
    my $pos = 0;
    while ($pos + 8 <= length $b) {
        my ($size, $type) = unpack 'Na4', substr($b, $pos, 8);
        my $head = 8;
        if ($size == 1) {
            my ($hi, $lo) = unpack 'NN', substr($b, $pos + 8, 8);
            $size = $hi * 4294967296 + $lo;
            $head = 16;
        }
        $size = length($b) - $pos if $size == 0;
        my $body = substr($b, $pos + $head, $size - $head);
        my $ind = '  ' x $depth;
        if ($container{$type}) {
            $out .= "$ind$type $size\n" . mp4_dump($body, $depth + 1);
        } elsif ($type eq 'mdat') {
            $out .= "$ind$type $size" . ($head == 16 ? ' (64-bit)' : '') . ' ' . length($body) . ' ' . md5_hex($body) . "\n";
        } else {
            # 32-bit words, a run of one written once with its count
            my @w = unpack('(H8)*', $body);
            my @o;
            for my $w (@w) {
                if (@o && $o[-1][0] eq $w) { $o[-1][1]++ } else { push @o, [$w, 1] }
            }
            my $hex = join ' ', map { $_->[1] > 1 ? "$_->[0]*$_->[1]" : $_->[0] } @o;
            $out .= "$ind$type $size: $hex\n";
        }
        last if $size < 8;
        $pos += $size;
    }
    $out .= ('  ' x $depth) . 'trailing ' . unpack('H*', substr($b, $pos)) . "\n" if $pos < length $b;
    return $out;
}

1;
