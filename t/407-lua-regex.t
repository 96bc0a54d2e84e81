# ngx.re: match, find, gmatch, sub, gsub; the option letters, ctx.pos, the res table, named and
# unmatched captures, replacement templates and functions, empty-match advancement, compile and
# match errors, and the `o` cache (lua_regex_cache_max_entries).
#
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/407-lua-regex.t
#
# nginx's Lua module (Debian, 0.10.23) is linked with PCRE1 and moongate with PCRE2, so compile
# and match errors are checked with patterns that allow both libraries' wording and codes.

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;

our $IsNginx = Test::Moongate::binary() =~ /nginx|openresty/ ? 1 : 0;

add_block_preprocessor(sub {
    my $block = shift;
    $block->set_value(request => "GET /t") unless defined $block->request;
});

plan 'no_plan';

run_tests();

__DATA__

=== TEST 1: match: the whole match at [0], the groups by number, nothing else
--- config
    location /t {
        content_by_lua_block {
            local m = ngx.re.match("hello, 1234 world", "([0-9])([0-9]+)")
            ngx.say(m[0], " ", m[1], " ", m[2], " ", m[3])
            local n = 0
            for _ in pairs(m) do n = n + 1 end
            ngx.say(n)
        }
    }
--- response_body
1234 1 234 nil
3



=== TEST 2: match: no match is a single nil; options and ctx may be nil
--- config
    location /t {
        content_by_lua_block {
            ngx.say(select("#", ngx.re.match("hello", "x")), " ", ngx.re.match("hello", "x"))
            ngx.say(ngx.re.match("hello", "l+", nil, nil)[0])
        }
    }
--- response_body
1 nil
ll



=== TEST 3: match: named groups under both keys, unmatched groups are false
--- config
    location /t {
        content_by_lua_block {
            local m = ngx.re.match("hello world", "(?<first>\\w+) (?<second>\\w+)(?<third> x)?(y)?")
            ngx.say(m[0], "|", m[1], "|", m.first, "|", m[2], "|", m.second)
            ngx.say(m[3], " ", m.third, " ", m[4], " ", m[5])
            m = ngx.re.match("b", "(a)?b")
            ngx.say(m[0], " ", m[1])
        }
    }
--- response_body
hello world|hello|hello|world|world
false false false nil
b false



=== TEST 4: match with D: a duplicated name holds the list of its matched groups
--- config
    location /t {
        content_by_lua_block {
            local m = ngx.re.match("aaa", "(?<a>a)(?<b>a)(?<a>a)", "D")
            ngx.say(#m.a, " ", m.a[1], m.a[2], " ", #m.b, " ", m.b[1], " ", m[1], m[2], m[3])
            m = ngx.re.match("ehllo", "(?<x>h)|(?<x>e)", "D")
            ngx.say(m[0], " ", #m.x, " ", m.x[1], " ", m[1], " ", m[2])
            m = ngx.re.match("hello", "(?<x>z)?(?<y>h)(?<x>q)?", "D")
            ngx.say(m[0], " ", m.x, " ", m.y[1])
        }
    }
--- response_body
2 aa 1 a aaa
e 1 e false e
h nil h



=== TEST 5: a duplicated name without D is a compile error
--- config
    location /t {
        content_by_lua_block {
            local m, err = ngx.re.match("hello", "(?<a>h)|(?<a>e)")
            ngx.say(m, " ", err)
        }
    }
--- response_body_like chomp
^nil pcre2?_compile\(\) failed: two named subpatterns have the same name.* in "\(\?<a>h\)\|\(\?<a>e\)" at ">?e\)"
$



=== TEST 6: match fills the res table given, leaving its other keys
--- config
    location /t {
        content_by_lua_block {
            local res = {x = "kept", [7] = "seven"}
            local m = ngx.re.match("hello", "(h)(e)", "", nil, res)
            ngx.say(m == res, " ", res[0], res[1], res[2], " ", res.x, " ", res[7])
            m = ngx.re.match("hello", "(l)(x)?", "", nil, res)
            ngx.say(res[0], " ", res[1], " ", res[2], " ", res.x)
        }
    }
--- response_body
true hehe kept seven
l l false kept



=== TEST 7: ctx.pos: where to start (1-based), set past the match, kept when nothing matches
--- config
    location /t {
        content_by_lua_block {
            local ctx = {pos = 6}
            local m = ngx.re.match("hello world", "o", "", ctx)
            ngx.say(m[0], " ", ctx.pos)
            m = ngx.re.match("hello world", "o", "", ctx)
            ngx.say(m, " ", ctx.pos)
            ctx = {}
            m = ngx.re.match("hello", "l", "", ctx)
            ngx.say(m[0], " ", ctx.pos)
            ctx = {pos = -3}
            m = ngx.re.match("hello", "h", "", ctx)
            ngx.say(m[0], " ", ctx.pos)
            ctx = {pos = 6}
            m = ngx.re.match("hello", "$", "", ctx)
            ngx.say(m[0] == "", " ", ctx.pos)
            ctx = {pos = 2}
            m = ngx.re.match("hello", "h", "a", ctx)
            ngx.say(m, " ", ctx.pos)
        }
    }
--- response_body
o 9
nil 9
l 4
h 2
true 6
nil 2



=== TEST 8: ctx.pos past the end of the subject is a match error
--- config
    location /t {
        content_by_lua_block {
            local ctx = {pos = 100}
            local m, err = ngx.re.match("hello", "o", "", ctx)
            ngx.say(m, " ", err, " ", ctx.pos)
            local from, to, err = ngx.re.find("hello", "o", "", ctx)
            ngx.say(from, " ", to, " ", err)
        }
    }
--- response_body_like chomp
^nil pcre_exec\(\) failed: -\d+ 100
nil nil pcre_exec\(\) failed: -\d+
$



=== TEST 9: options i, m, s, x
--- config
    location /t {
        content_by_lua_block {
            ngx.say(ngx.re.match("HeLLo", "hel+", "i")[0], " ", ngx.re.match("HeLLo", "hel+"))
            ngx.say(ngx.re.match("a\nb", "^b"), " ", ngx.re.match("a\nb", "^b$", "m")[0])
            ngx.say(ngx.re.match("a\nb", "a.b"), " ", #ngx.re.match("a\nb", "a.b", "s")[0])
            ngx.say(ngx.re.match("hello", "l l o"), " ", ngx.re.match("hello", "l l o # comment", "x")[0])
            ngx.say(ngx.re.match("A\nB", "^b", "im")[0])
        }
    }
--- response_body
HeLL nil
nil b
nil 3
nil llo
B



=== TEST 10: option a anchors at the start (or at ctx.pos)
--- config
    location /t {
        content_by_lua_block {
            ngx.say(ngx.re.match("hello", "ello", "a"), " ", ngx.re.match("hello", "hel", "a")[0])
            local ctx = {pos = 2}
            ngx.say(ngx.re.match("hello", "ello", "a", ctx)[0], " ", ctx.pos)
            ngx.say(ngx.re.gsub("aab", "a", "x", "a"))
        }
    }
--- response_body
nil hel
ello 6
xxb2



=== TEST 11: option d (DFA): the longest match at the first position, no groups
--- config
    location /t {
        content_by_lua_block {
            ngx.say(ngx.re.match("hello", "l+|hell|he")[0], " ", ngx.re.match("hello", "he|hell|l+", "d")[0])
            local m = ngx.re.match("hello", "(h)(?<n>e)", "d")
            ngx.say(m[0], " ", m[1], " ", m.n)
            ngx.say(ngx.re.gsub("hello", "l+|l", "L", "d"))
            ngx.say(ngx.re.find("hello", "l+", "d"))
        }
    }
--- response_body
hell hell
he nil nil
heLo1
34



=== TEST 12: options j and o give the same results, also on repeated calls
--- config
    location /t {
        content_by_lua_block {
            for i = 1, 3 do
                local m = ngx.re.match("abc123", "(?<d>\\d+)", "jo")
                local s, n = ngx.re.gsub("a1b22", "\\d", "<$0>", "jo")
                local s2 = ngx.re.gsub("a1b22", "\\d", function(m) return m[0] + i end, "oj")
                ngx.say(m[0], " ", m.d, " ", s, " ", n, " ", s2)
            end
        }
    }
--- response_body
123 123 a<1>b<2><2> 3 a2b33
123 123 a<1>b<2><2> 3 a3b44
123 123 a<1>b<2><2> 3 a4b55



=== TEST 13: option J: JavaScript's \u escape
--- config
    location /t {
        content_by_lua_block {
            ngx.say(ngx.re.match("hello", "h\\u0065", "J")[0])
        }
    }
--- response_body
he



=== TEST 14: option u: a dot is one UTF-8 character; U skips the validity check
--- config
    location /t {
        content_by_lua_block {
            ngx.say(ngx.re.match("héllo", "h.l"), " ", ngx.re.match("héllo", "h.l", "u")[0])
            ngx.say(ngx.re.match("héllo", "h..l")[0], " ", ngx.re.match("héllo", "h.l", "U")[0])
            local m = ngx.re.match("日本語", "(?<c>.)$", "u")
            ngx.say(m[0], " ", m.c)
            ngx.say(ngx.re.gsub("日本", ".", "[$0]", "u"))
        }
    }
--- response_body
nil hél
hél hél
語 語
[日][本]2



=== TEST 15: option u with a subject that is not UTF-8 is a match error
--- config
    location /t {
        content_by_lua_block {
            ngx.say(ngx.re.match("h\255llo", "l+", "u"))
            ngx.say(ngx.re.find("h\255llo", "l+", "u"))
            ngx.say(ngx.re.gsub("h\255llo", "l", "L", "u"))
            ngx.say(ngx.re.match("h\255llo", "l+")[0])
        }
    }
--- response_body_like chomp
^nilpcre_exec\(\) failed: -\d+
nilnilpcre_exec\(\) failed: -\d+
nilnilpcre_exec\(\) failed: -\d+
ll
$



=== TEST 16: an empty match inside a UTF-8 character: the next try fails
--- config
    location /t {
        content_by_lua_block {
            local it = ngx.re.gmatch("hé", "", "u")
            ngx.say(it()[0] == "", " ", it()[0] == "")
            ngx.say(it())
            ngx.say(it())
            ngx.say(ngx.re.gsub("é", "", "-", "u"))
        }
    }
--- response_body_like chomp
^true true
nilpcre_exec\(\) failed: -\d+
nil
nilnilpcre_exec\(\) failed: -\d+
$



=== TEST 17: an unknown option letter is a Lua error
--- config
    location /t {
        content_by_lua_block {
            ngx.say(pcall(ngx.re.match, "hello", "l", "iz"))
            ngx.say(pcall(ngx.re.find, "hello", "l", "Q"))
            ngx.say(pcall(ngx.re.gmatch, "hello", "l", "jo!"))
            ngx.say(pcall(ngx.re.gsub, "hello", "l", "x", "w"))
        }
    }
--- response_body_like chomp
^false(?:[^\n]*: )?unknown flag "z" \(flags "iz"\)
false(?:[^\n]*: )?unknown flag "Q" \(flags "Q"\)
false(?:[^\n]*: )?unknown flag "!" \(flags "jo!"\)
false(?:[^\n]*: )?unknown flag "w" \(flags "w"\)
$



=== TEST 18: compile errors: nil and the message, in each function's return shape
--- config
    location /t {
        content_by_lua_block {
            ngx.say(select("#", ngx.re.match("hello", "(")), " ", select(2, ngx.re.match("hello", "(")))
            ngx.say(ngx.re.find("hello", "("))
            ngx.say(ngx.re.gmatch("hello", "("))
            ngx.say(ngx.re.sub("hello", "(", "x"))
            ngx.say(ngx.re.gsub("hello", "(", function() return "" end))
            ngx.say(ngx.re.match("hello", "a)b"))
            ngx.say(ngx.re.match("hello", "[z-a]", "o"))
        }
    }
--- response_body_like chomp
^2 pcre2?_compile\(\) failed: missing (?:\)|closing parenthesis) in "\("
nilnilpcre2?_compile\(\) failed: missing (?:\)|closing parenthesis) in "\("
nilpcre2?_compile\(\) failed: missing (?:\)|closing parenthesis) in "\("
nilnilpcre2?_compile\(\) failed: missing (?:\)|closing parenthesis) in "\("
nilnilpcre2?_compile\(\) failed: missing (?:\)|closing parenthesis) in "\("
nilpcre2?_compile\(\) failed: unmatched (?:closing )?parenthes[ie]s in "a\)b" at "\)b"
nilpcre2?_compile\(\) failed: range out of order in character class in "\[z-a\]" at "a\]"
$



=== TEST 19: a compile error message is cut to 127 bytes
--- config
    location /t {
        content_by_lua_block {
            local m, err = ngx.re.match("hello", "(" .. string.rep("a", 200))
            ngx.say(m, " ", #err, " ", err:sub(-5))
        }
    }
--- response_body
nil 127 aaaaa



=== TEST 20: find: the positions of the match or of group nth
--- config
    location /t {
        content_by_lua_block {
            ngx.say(ngx.re.find("hello, 1234", "([0-9])([0-9]+)"))
            ngx.say(ngx.re.find("hello, 1234", "([0-9])([0-9]+)", "", nil, 2))
            ngx.say(ngx.re.find("hello, 1234", "([0-9])([0-9]+)", "", nil, -1))
            ngx.say(ngx.re.find("hello, 1234", "([0-9])([0-9]+)", "", nil, 3))
            ngx.say(ngx.re.find("hello, 1234", "([0-9])(x)?", "", nil, 2))
            ngx.say(select("#", ngx.re.find("hello", "z")), ngx.re.find("hello", "z"))
            ngx.say(ngx.re.find("hello", ""))
            local ctx = {pos = 4}
            ngx.say(ngx.re.find("hello", "l", "", ctx), " ", ctx.pos)
        }
    }
--- response_body
811
911
811
nilnilnth out of bound
nilnil
1nil
10
4 5



=== TEST 21: gmatch: one captures table per match, then nil for good
--- config
    location /t {
        content_by_lua_block {
            for m in ngx.re.gmatch("a1 b22 c333", "(?<l>[a-z])(\\d+)") do
                ngx.say(m[0], " ", m[1], " ", m.l, " ", m[2])
            end
            local it = ngx.re.gmatch("ab", "\\w", "o")
            ngx.say(it()[0], " ", it()[0], " ", it(), " ", it())
            it = ngx.re.gmatch("ab", "x")
            ngx.say(it(), " ", it())
        }
    }
--- response_body
a1 a a 1
b22 b b 22
c333 c c 333
a b nil nil
nil nil



=== TEST 22: gmatch: empty matches move one byte on, up to the end of the subject
--- config
    location /t {
        content_by_lua_block {
            local out = {}
            for m in ngx.re.gmatch("hello", "") do out[#out + 1] = "<" .. m[0] .. ">" end
            ngx.say(#out, " ", table.concat(out))
            out = {}
            for m in ngx.re.gmatch("hello", "l*") do out[#out + 1] = "<" .. m[0] .. ">" end
            ngx.say(#out, " ", table.concat(out))
            out = {}
            for m in ngx.re.gmatch("", "x*") do out[#out + 1] = "<" .. m[0] .. ">" end
            ngx.say(#out, " ", table.concat(out))
        }
    }
--- response_body
6 <><><><><><>
5 <><><ll><><>
1 <>



=== TEST 23: sub and gsub: the new string and the number of replacements
--- config
    location /t {
        content_by_lua_block {
            ngx.say(ngx.re.sub("hello, world", "o", "0"))
            ngx.say(ngx.re.gsub("hello, world", "o", "0"))
            ngx.say(ngx.re.gsub("hello, world", "z", "0"))
            ngx.say(ngx.re.sub("", "z", "0"))
            ngx.say(ngx.re.gsub("hello", "l", ""))
        }
    }
--- response_body
hell0, world1
hell0, w0rld2
hello, world0
0
heo2



=== TEST 24: gsub: empty matches replace between every byte
--- config
    location /t {
        content_by_lua_block {
            ngx.say(ngx.re.gsub("abc", "", "-"))
            ngx.say(ngx.re.gsub("abc", "b*", "-"))
            ngx.say(ngx.re.gsub("abc", "x*$", "-"))
            ngx.say(ngx.re.gsub("", "", "-"))
            ngx.say(ngx.re.sub("abc", "", "-"))
            ngx.say(ngx.re.gsub("abc", "", function(m) return "[" .. m[0] .. "]" end))
        }
    }
--- response_body
-a-b-c-4
-a--c-4
abc-1
-1
-abc1
[]a[]b[]c[]4



=== TEST 25: replacement templates: $0, $N, ${N}, $$; groups that did not take part are empty
--- config
    location /t {
        content_by_lua_block {
            ngx.say(ngx.re.sub("hello, world", "(o), (w)", "[$0|$1|${2}|$$|$$1]"))
            ngx.say(ngx.re.gsub("abc", "(b)|(c)", "[$1:$2]"))
            ngx.say(ngx.re.sub("abc", "b", "[$1$9${12}]"))
            ngx.say(ngx.re.sub("abc", "(b)", "${1}1 $1x $01 $10"))
            ngx.say(ngx.re.gsub("a.b", "\\.", "$$"))
        }
    }
--- response_body
hell[o, w|o|w|$|$1]orld1
a[b:][:c]2
a[]c1
ab1 bx b c1
a$b1



=== TEST 26: a bad template: nil, nil and the error, and why in the error log
--- config
    location /t {
        content_by_lua_block {
            for _, t in ipairs({"x$", "${1", "$foo", "${}", "${foo}", "${1x}", "$-"}) do
                ngx.say(ngx.re.sub("abc", "b", t))
            end
            ngx.say(ngx.re.gsub("abc", "b", "$"))
        }
    }
--- response_body
nilnilfailed to compile the replacement template
nilnilfailed to compile the replacement template
nilnilfailed to compile the replacement template
nilnilfailed to compile the replacement template
nilnilfailed to compile the replacement template
nilnilfailed to compile the replacement template
nilnilfailed to compile the replacement template
nilnilfailed to compile the replacement template
--- error_log
lua script: invalid capturing variable name found in "x$"
the closing bracket in "1" variable is missing
attempt to use named capturing variable "foo" (named captures not supported yet)
lua script: invalid capturing variable name found in "${}"
the closing bracket in "1" variable is missing
lua script: invalid capturing variable name found in "$-"



=== TEST 27: replacement functions get the captures table; what they return goes through tostring
--- config
    location /t {
        content_by_lua_block {
            ngx.say(ngx.re.gsub("a1 b22", "(?<l>[a-z])(\\d+)(x)?", function(m)
                return m.l:upper() .. "=" .. #m[2] .. tostring(m[3])
            end))
            ngx.say(ngx.re.gsub("a1b2", "\\d", function(m) return m[0] * 10 end))
            ngx.say(ngx.re.sub("a1b2", "\\d", function() return nil end))
            ngx.say(ngx.re.gsub("a.b", "\\.", function(m) return ngx.re.gsub("xy", ".", "<$0>") end))
        }
    }
--- response_body
A=1false B=2false2
a10b202
anilb21
a<x><y>b1



=== TEST 28: an error in a replacement function reaches the caller
--- config
    location /t {
        content_by_lua_block {
            local ok, err = pcall(ngx.re.gsub, "abc", "b", function() error("boom", 0) end)
            ngx.say(ok, " ", err)
            ngx.say(ngx.re.gsub("abc", "b", "x"))
        }
    }
--- response_body
false boom
axc1



=== TEST 29: subjects and replacements that are not strings go through tostring
--- config
    location /t {
        content_by_lua_block {
            ngx.say(ngx.re.match(3.5, "\\.\\d")[0], " ", ngx.re.match(true, "ru")[0])
            ngx.say(ngx.re.gsub(1212, "1", 7))
            ngx.say(ngx.re.gsub("hello", "l", nil))
            ngx.say(ngx.re.find(12345, "34"))
        }
    }
--- response_body
.5 ru
72722
henilnilo2
34



=== TEST 30: the `o` cache keeps working past lua_regex_cache_max_entries
--- http_config
    lua_regex_cache_max_entries 2;
--- config
    location /t {
        content_by_lua_block {
            local out = {}
            for i = 1, 6 do
                local m = ngx.re.match("x" .. i, "x" .. i, "o")
                local s = ngx.re.gsub("aXa", "X", tostring(i), "o")
                local f = ngx.re.sub("aXa", "X", function() return i * 2 end, "o")
                out[#out + 1] = m[0] .. s .. f
            end
            ngx.say(table.concat(out, " "))
        }
    }
--- request eval
["GET /t", "GET /t"]
--- response_body eval
["x1a1aa2a x2a2aa4a x3a3aa6a x4a4aa8a x5a5aa10a x6a6aa12a\n",
 "x1a1aa2a x2a2aa4a x3a3aa6a x4a4aa8a x5a5aa10a x6a6aa12a\n"]
--- no_error_log eval
# lua-resty-core's cache evicts (match) or stops caching (sub) silently
["[error]", "exceeding regex cache"]



=== TEST 31: gmatch, sub and gsub report match errors as match and find do
--- config
    location /t {
        content_by_lua_block {
            local it = ngx.re.gmatch("h\255", "h", "u")
            ngx.say(it())
            ngx.say(it())
            ngx.say(ngx.re.sub("h\255", "h", "x", "u"))
        }
    }
--- response_body_like chomp
^nilpcre_exec\(\) failed: -\d+
nil
nilnilpcre_exec\(\) failed: -\d+
$
