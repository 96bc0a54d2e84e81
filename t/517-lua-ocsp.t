# require "ngx.ocsp" (lua-resty-core's API): the responder URL and the DER request for a DER
# chain, the check of a response, and stapling from ssl_certificate_by_lua with
# set_ocsp_status_resp (a response fetched with a cosocket from the certificate's responder).
# The responses are made with `openssl ocsp` from the test CA's database.
#
#   prove -I t/lib t/517-lua-ocsp.t
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/517-lua-ocsp.t
use Test::Moongate;
use Test::Moongate::Certs qw(sh ocsp_response);

our $dir = Test::Moongate::Certs::make();
our $od = "$dir/lua-ocsp-$$";
END { system('rm', '-rf', $od) if $od }
mkdir $od or die "mkdir $od: $!";
log_level('info');

sub response {
    my ($cert, $out, $signer) = @_;
    return ocsp_response(issuer => "$dir/ca", cert => $cert, index => "$dir/db/index.txt",
                         signer => "$dir/$signer", req => "$od/req.der", out => "$od/$out");
}

# server certificates with an OCSP URL, recorded in the CA's database (good) or revoked
sub cert {
    my ($name, $url) = @_;
    Test::Moongate::Certs::spew("$od/$name.ext",
        "authorityInfoAccess = OCSP;URI:$url\nsubjectAltName = DNS:localhost\n");
    sh("openssl req -new -newkey rsa:2048 -nodes -keyout $od/$name.key -out $od/$name.csr"
       . " -subj /CN=$name");
    sh("openssl ca -batch -config $dir/ca.cnf -cert $dir/ca.crt -keyfile $dir/ca.key"
       . " -in $od/$name.csr -out $od/$name.crt -notext -extfile $od/$name.ext");
    Test::Moongate::Certs::spew("$od/$name-chain.pem",
        Test::Moongate::slurp("$od/$name.crt") . Test::Moongate::slurp("$dir/ca.crt"));
}
# the responder: a second server of the instance, sending good.der for any /ocsp path
our $port2 = env_port('TEST_NGINX_PORT2');
my $url = "http://127.0.0.1:$port2/ocsp";
cert('lua-good', $url);
cert('lua-revoked', $url);
sh("openssl ca -batch -config $dir/ca.cnf -cert $dir/ca.crt -keyfile $dir/ca.key"
   . " -revoke $od/lua-revoked.crt");
response("$od/lua-good.crt", 'good.der', 'ca');
response("$od/lua-revoked.crt", 'revoked.der', 'ca');
response("$od/lua-good.crt", 'forged.der', 'self');
Test::Moongate::Certs::spew("$od/garbage.der", "not an OCSP response");
$ENV{TEST_NGINX_OCSP_DIR} = $od;

our $GoodSerial = do { my $s = `openssl x509 -in $od/lua-good.crt -noout -serial`; $s =~ /=(\w+)/; uc $1 };

run_tests();

__DATA__

=== TEST 1: get_ocsp_responder_from_der_chain: the certificate's OCSP URL
--- config
    location / {
        content_by_lua_block {
            local ssl = require "ngx.ssl"
            local ocsp = require "ngx.ocsp"
            local f = assert(io.open("$TEST_NGINX_OCSP_DIR/lua-good-chain.pem"))
            local der = assert(ssl.cert_pem_to_der(f:read("*a")))
            f:close()
            local url, err = ocsp.get_ocsp_responder_from_der_chain(der)
            ngx.say(url:match("^http://127%.0%.0%.1:%d+/ocsp$") ~= nil, " ", err)
            url, err = ocsp.get_ocsp_responder_from_der_chain(der, 10)
            ngx.say(url, " ", err)
        }
    }
--- request
GET /
--- response_body
true nil
http://127 truncated



=== TEST 2: a certificate without an OCSP URL: nil and no error; garbage: an error
--- config
    location / {
        content_by_lua_block {
            local ssl = require "ngx.ssl"
            local ocsp = require "ngx.ocsp"
            local f = assert(io.open("$TEST_NGINX_CERT_DIR/chain.crt"))
            local der = assert(ssl.cert_pem_to_der(f:read("*a")))
            f:close()
            ngx.say(ocsp.get_ocsp_responder_from_der_chain(der))
            local url, err = ocsp.get_ocsp_responder_from_der_chain("garbage")
            ngx.say(url, " ", err ~= nil)
        }
    }
--- request
GET /
--- response_body
nil
nil true



=== TEST 3: create_ocsp_request: a DER request naming the certificate's serial
--- config
    location / {
        content_by_lua_block {
            local ssl = require "ngx.ssl"
            local ocsp = require "ngx.ocsp"
            local f = assert(io.open("$TEST_NGINX_OCSP_DIR/lua-good-chain.pem"))
            local der = assert(ssl.cert_pem_to_der(f:read("*a")))
            f:close()
            local req = assert(ocsp.create_ocsp_request(der))
            local out = assert(io.open("$TEST_NGINX_OCSP_DIR/asked.der", "w"))
            out:write(req)
            out:close()
            local p = io.popen("openssl ocsp -reqin $TEST_NGINX_OCSP_DIR/asked.der -req_text")
            local text = p:read("*a")
            p:close()
            ngx.say(text:match("Serial Number: (%w+)"):upper())
            local r, err = ocsp.create_ocsp_request(der, 10)
            ngx.say(r, " ", err:match("^output buffer too small: %d+ > 10$") ~= nil)
        }
    }
--- request
GET /
--- response_body_like eval
qr/^\Q$main::GoodSerial\E\nnil true\n$/



=== TEST 4: create_ocsp_request wants the issuer after the certificate
--- config
    location / {
        content_by_lua_block {
            local ssl = require "ngx.ssl"
            local ocsp = require "ngx.ocsp"
            local f = assert(io.open("$TEST_NGINX_OCSP_DIR/lua-good.crt"))
            local der = assert(ssl.cert_pem_to_der(f:read("*a")))
            f:close()
            ngx.say(ocsp.create_ocsp_request(der))
        }
    }
--- request
GET /
--- response_body
nilno issuer certificate in chain



=== TEST 5: validate_ocsp_response: good, revoked, garbage, another certificate's
--- config
    location / {
        content_by_lua_block {
            local ssl = require "ngx.ssl"
            local ocsp = require "ngx.ocsp"
            local function slurp(name)
                local f = assert(io.open(name))
                local s = f:read("*a")
                f:close()
                return s
            end
            local dir = "$TEST_NGINX_OCSP_DIR"
            local good = assert(ssl.cert_pem_to_der(slurp(dir .. "/lua-good-chain.pem")))
            local revoked = assert(ssl.cert_pem_to_der(slurp(dir .. "/lua-revoked-chain.pem")))
            ngx.say(ocsp.validate_ocsp_response(slurp(dir .. "/good.der"), good))
            ngx.say(ocsp.validate_ocsp_response(slurp(dir .. "/revoked.der"), revoked))
            local ok, err = ocsp.validate_ocsp_response(slurp(dir .. "/garbage.der"), good)
            ngx.say(ok, " ", err:match("^d2i_OCSP_RESPONSE%(%) failed") ~= nil)
            -- the good certificate's response does not answer for the revoked one
            ngx.say(ocsp.validate_ocsp_response(slurp(dir .. "/good.der"), revoked))
            ngx.say(ocsp.validate_ocsp_response(slurp(dir .. "/revoked.der"), revoked, 14))
        }
    }
--- request
GET /
--- response_body
true
nilcertificate status "revoked" in the OCSP response
nil true
nilcertificate status not found in the OCSP response
nilcertificate st



=== TEST 5a: validate_ocsp_response refuses a response signed by a certificate it carries
# moongate_only: OpenResty 0.10.23 takes it (true): it checks the signature with whatever
# certificate the response brings; moongate wants the signer in the chain (the issuer) or
# certified by it, as ssl_stapling_verify does, else anyone could sign a "good".
--- moongate_only
--- config
    location / {
        content_by_lua_block {
            local ssl = require "ngx.ssl"
            local ocsp = require "ngx.ocsp"
            local function slurp(name)
                local f = assert(io.open(name))
                local s = f:read("*a")
                f:close()
                return s
            end
            local dir = "$TEST_NGINX_OCSP_DIR"
            local good = assert(ssl.cert_pem_to_der(slurp(dir .. "/lua-good-chain.pem")))
            local ok, err = ocsp.validate_ocsp_response(slurp(dir .. "/forged.der"), good)
            ngx.say(ok, " ", err)
        }
    }
--- request
GET /
--- response_body_like chomp
^nil OCSP_basic_verify\(\) failed



=== TEST 6: ssl_certificate_by_lua staples what the responder said (a cosocket asked it)
--- ssl
--- http_config
    server {
        listen 127.0.0.1:$TEST_NGINX_PORT2;
        location /ocsp {
            root $TEST_NGINX_OCSP_DIR;
            rewrite ^ /good.der break;
        }
    }
--- config
    ssl_certificate_by_lua_block {
        local ssl = require "ngx.ssl"
        local ocsp = require "ngx.ocsp"
        local f = assert(io.open("$TEST_NGINX_OCSP_DIR/lua-good-chain.pem"))
        local pem = f:read("*a")
        f:close()
        local der = assert(ssl.cert_pem_to_der(pem))
        local url = assert(ocsp.get_ocsp_responder_from_der_chain(der))
        local host, port, path = url:match("^http://([^:/]+):(%d+)(/.*)$")
        local req = assert(ocsp.create_ocsp_request(der))
        local sock = ngx.socket.tcp()
        assert(sock:connect(host, tonumber(port)))
        assert(sock:send("GET " .. path .. "/" .. ngx.escape_uri(ngx.encode_base64(req))
                         .. " HTTP/1.0\r\nHost: " .. host .. "\r\n\r\n"))
        local answer = assert(sock:receive("*a"))
        local resp = answer:match("\r\n\r\n(.*)$")
        assert(ocsp.validate_ocsp_response(resp, der))
        ngx.log(ngx.NOTICE, "stapling: ", tostring(ocsp.set_ocsp_status_resp(resp)))
        assert(ssl.clear_certs())
        assert(ssl.set_der_cert(der))
        f = assert(io.open("$TEST_NGINX_OCSP_DIR/lua-good.key"))
        assert(ssl.set_der_priv_key(assert(ssl.priv_key_pem_to_der(f:read("*a")))))
        f:close()
    }
    location / { return 200 "ok\n"; }
--- init
my $port = $Test::Moongate::ServerPort;
my $out = `timeout 10 openssl s_client -connect 127.0.0.1:$port -status < /dev/null 2>&1`;
Test::More::like($out, qr/OCSP Response Status: successful/, "a response is stapled");
Test::More::like($out, qr/Cert Status: good/, "it says good");
Test::More::like($out, qr/subject=CN ?= ?lua-good/, "the certificate the code set");
--- request
GET /
--- response_body
ok
--- error_log
stapling: true



=== TEST 7: a client that asks for no status: true, "no status req"
--- ssl
--- config
    ssl_certificate_by_lua_block {
        local ocsp = require "ngx.ocsp"
        local f = assert(io.open("$TEST_NGINX_OCSP_DIR/good.der"))
        local resp = f:read("*a")
        f:close()
        ngx.log(ngx.NOTICE, "stapling: ", table.concat({tostring(ocsp.set_ocsp_status_resp(resp))}, " "),
                " ", select(2, ocsp.set_ocsp_status_resp(resp)))
    }
    location / { return 200 "ok\n"; }
--- request
GET /
--- response_body
ok
--- error_log
stapling: true no status req
