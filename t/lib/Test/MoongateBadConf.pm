package Test::MoongateBadConf;

# use_bad_conf_blocks()'s block rewrite, shared by both harnesses (t/lib/Test/Moongate.pm and
# t/nginx/lib/Test/Moongate.pm, OpenResty's Test::Nginx under it): "--- bad_conf" lines become
# conf/bad.conf (a user file), included at "--- include_in" (main, http, server, location /t),
# and the block must die; %F %D %C $PORT in "--- error_log" are bad.conf, the conf directory,
# the main conf file and the port.

use strict;
use warnings;

use Exporter 'import';
our @EXPORT_OK = qw(bad_conf_block);

# bad_conf_block($block, conf_dir => D, conf_file => F, port => P)
sub bad_conf_block {
    my ($block, %w) = @_;
    my ($bad) = @{ $block->{bad_conf} || [] };
    if (defined $bad) {
        my ($more) = @{ $block->{user_files} || [''] };
        my $files = ">>> ../conf/bad.conf\n$bad$more";
        $files =~ s/\$PORT/$w{port}/g;
        $block->set_value(user_files => $files);
        my ($where) = @{ $block->{include_in} || ["server"] };
        my %section = (main => 'main_config', http => 'http_config', server => 'config',
                       location => 'config');
        my $inc = $where eq 'location' ? "location /t {\n    include bad.conf;\n}\n"
                                       : "include bad.conf;\n";
        $block->set_value($section{$where} => $inc);
        # OpenResty's Test::Nginx starts no server for a block without "--- config" (it goes
        # on with the previous block's server and wants a request): give main and http blocks
        # an empty one
        $block->set_value(config => '') unless defined $block->{config};
        $block->set_value(must_die => 1);
    }
    my @want = @{ $block->{error_log} || [] };
    if (@want) {
        for (@want) {
            next if ref;
            s/%F/$w{conf_dir}\/bad.conf/g;
            s/%D/$w{conf_dir}/g;
            s/\$PORT/$w{port}/g;
            s/%C/$w{conf_file}/g;
        }
        $block->set_value(error_log => @want);
    }
}

1;
