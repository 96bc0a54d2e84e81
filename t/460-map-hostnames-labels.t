# map hostnames with names of many labels: the longest matching mask wins whether it is one of
# the 32 shortest suffixes or a longer one (modules/map.c hashes a name's suffixes in one pass
# and keeps the 32 shortest), with case ignored, and a ".suffix" mask naming the name itself.
#
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/460-map-hostnames-labels.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;

plan 'no_plan';

run_tests();

__DATA__

=== TEST 1: a mask of 37 labels beyond the 32 shortest suffixes, and shorter ones
--- http_config
    map $arg_h $m {
        hostnames;
        default            none;
        *.l1.l2.l3.l4.l5.l6.l7.l8.l9.l10.l11.l12.l13.l14.l15.l16.l17.l18.l19.l20.l21.l22.l23.l24.l25.l26.l27.l28.l29.l30.l31.l32.l33.l34.l35.example.com   deep;
        *.example.com      shallow;
        .k1.k2.k3.k4.k5.k6.k7.k8.k9.k10.k11.k12.k13.k14.k15.k16.k17.k18.k19.k20.k21.k22.k23.k24.k25.k26.k27.k28.k29.k30.example.com     mid-dot;
        *.k30.example.com  k30;
    }
--- config
    location /t { return 200 "[$m]\n"; }
--- request eval
["GET /t?h=x.l1.l2.l3.l4.l5.l6.l7.l8.l9.l10.l11.l12.l13.l14.l15.l16.l17.l18.l19.l20.l21.l22.l23.l24.l25.l26.l27.l28.l29.l30.l31.l32.l33.l34.l35.example.com", "GET /t?h=X.L1.L2.L3.L4.L5.L6.L7.L8.L9.L10.L11.L12.L13.L14.L15.L16.L17.L18.L19.L20.L21.L22.L23.L24.L25.L26.L27.L28.L29.L30.L31.L32.L33.L34.L35.EXAMPLE.COM", "GET /t?h=l1.l2.l3.l4.l5.l6.l7.l8.l9.l10.l11.l12.l13.l14.l15.l16.l17.l18.l19.l20.l21.l22.l23.l24.l25.l26.l27.l28.l29.l30.l31.l32.l33.l34.l35.example.com",
 "GET /t?h=a.m1.m2.m3.m4.m5.m6.m7.m8.m9.m10.m11.m12.m13.m14.m15.m16.m17.m18.m19.m20.m21.m22.m23.m24.m25.m26.m27.m28.m29.m30.m31.m32.m33.m34.m35.m36.m37.m38.m39.m40.example.com", "GET /t?h=k1.k2.k3.k4.k5.k6.k7.k8.k9.k10.k11.k12.k13.k14.k15.k16.k17.k18.k19.k20.k21.k22.k23.k24.k25.k26.k27.k28.k29.k30.example.com", "GET /t?h=z.k1.k2.k3.k4.k5.k6.k7.k8.k9.k10.k11.k12.k13.k14.k15.k16.k17.k18.k19.k20.k21.k22.k23.k24.k25.k26.k27.k28.k29.k30.example.com",
 "GET /t?h=q.k30.example.com", "GET /t?h=example.com"]
--- response_body eval
["[deep]\n", "[deep]\n", "[shallow]\n",
 "[shallow]\n", "[mid-dot]\n", "[mid-dot]\n",
 "[k30]\n", "[none]\n"]
