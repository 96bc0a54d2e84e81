# the cases of t/tools/ssidiff.py: PAGES (file name: text, under the root), CASES (name, path)
# included Lua locations that fail before or after output, first (f-), after one (s-), with
# a stub (t-), behind a slow one (w-); proxied includes cut off
PAGES = {}
CASES = []
for x in ['errpre', 'errpost', 'errpostf', 'errsleep', 'exerrpre', 'exerrpost', 'ex444pre', 'ex444post',
          'ex500pre', 'ex500post', 'ex200post']:
    PAGES['f-%s.html' % x] = 'A[<!--# include virtual="/l/%s" -->]B[<!--# include virtual="/l/ok" -->]C\n' % x
    PAGES['s-%s.html' % x] = 'A[<!--# include virtual="/l/ok" -->]B[<!--# include virtual="/l/%s" -->]C\n' % x
    PAGES['t-%s.html' % x] = '<!--# block name="b" -->STUB<!--# endblock -->A[<!--# include virtual="/l/%s" stub="b" -->]C\n' % x
    PAGES['w-%s.html' % x] = 'A[<!--# include virtual="/l/slow" -->]B[<!--# include virtual="/l/%s" -->]C\n' % x
    for p in 'fstw':
        CASES.append(('%s-%s' % (p, x), '/%s-%s.html' % (p, x)))
for x in ['headclose', 'headstall', 'headreset', 'onlyhead', 'onlyheadstall', 'chclose', 'bigclose']:
    for l in ['px', 'pxu', 'pxp', 'pxup']:
        CASES.append(('%s-%s' % (l, x), '/%s/%s' % (l, x)))

for x in ['px/err500', 'px/headclose', 'pxu/headclose', 'px/headstall', 'px/onlyhead']:
    n = x.replace('/', '_')
    PAGES['f-%s.html' % n] = 'A[<!--# include virtual="/%s" -->]B[<!--# include virtual="/l/ok" -->]C\n' % x
    PAGES['t-%s.html' % n] = '<!--# block name="b" -->STUB<!--# endblock -->A[<!--# include virtual="/%s" stub="b" -->]C\n' % x
    CASES.append(('f-' + n, '/f-%s.html' % n))
    CASES.append(('t-' + n, '/t-%s.html' % n))

# plain proxied responses cut off: gzip, sub_filter, small buffers
for x in ['headclose', 'headstall', 'headreset', 'onlyhead', 'chclose', 'big20stall', 'big20close', 'big20reset']:
    for l in ['pxg', 'pxgu', 'pxs', 'pxsu', 'pxb', 'px', 'pxu']:
        CASES.append(('%s-%s' % (l, x), '/%s/%s' % (l, x)))

# when includes run: proxied (o-, v-) and Lua (lo-, lv-) includes with echo/if/set between
A = '<!--# include virtual="/seq/K/a/0.3" -->'
B = '<!--# include virtual="/seq/K/b/0" -->'
between = {
    'none': '',
    'text': 'text',
    'echo': '<!--# echo var="arg_x" default="-" -->',
    'if': '<!--# if expr="$arg_x" -->y<!--# else -->n<!--# endif -->',
    'set': '<!--# set var="z" value="1" -->',
    'echodate': '<!--# echo var="date_gmt" -->',
}
for k, v in between.items():
    PAGES['o-%s.html' % k] = ('[' + A + ']' + v + '[' + B + ']\n').replace('K', k)
    CASES.append(('o-' + k, '/o-%s.html' % k))
# an include with set= read by a later echo / if
PAGES['v-echo.html'] = '<!--# include virtual="/seq/v1/a/0.3" set="v" -->[<!--# echo var="v" default="none" -->]' + B.replace('K', 'v1') + '\n'
PAGES['v-if.html'] = '<!--# include virtual="/seq/v2/a/0.3" set="v" --><!--# if expr="$v = /a@1/" -->[match]<!--# else -->[nomatch]<!--# endif -->' + B.replace('K', 'v2') + '\n'
PAGES['v-wait.html'] = '<!--# include virtual="/seq/v3/a/0.3" wait="yes" -->' + B.replace('K', 'v3') + '\n'
PAGES['v-setb.html'] = '<!--# include virtual="/seq/v4/a/0.3" set="v" -->' + B.replace('K', 'v4') + '[<!--# echo var="v" default="none" -->]\n'
for k in ['echo', 'if', 'wait', 'setb']:
    CASES.append(('v-' + k, '/v-%s.html' % k))
A = '<!--# include virtual="/l/seq2?k=K&n=a&s=0.3" -->'
B = '<!--# include virtual="/l/seq2?k=K&n=b" -->'
between = {
    'none': '',
    'text': 'text',
    'echo': '<!--# echo var="arg_x" default="-" -->',
    'if': '<!--# if expr="$arg_x" -->y<!--# else -->n<!--# endif -->',
    'set': '<!--# set var="z" value="1" -->',
    'echodate': '<!--# echo var="date_gmt" -->',
}
for k, v in between.items():
    PAGES['lo-%s.html' % k] = ('[' + A + ']' + v + '[' + B + ']\n').replace('K', k)
    CASES.append(('lo-' + k, '/lo-%s.html' % k))
# an include with set= read by a later echo / if
PAGES['lv-echo.html'] = '<!--# include virtual="/l/seq2?k=v1&n=a&s=0.3" set="v" -->[<!--# echo var="v" default="none" -->]' + B.replace('K', 'v1') + '\n'
PAGES['lv-if.html'] = '<!--# include virtual="/l/seq2?k=v2&n=a&s=0.3" set="v" --><!--# if expr="$v = /a@1/" -->[match]<!--# else -->[nomatch]<!--# endif -->' + B.replace('K', 'v2') + '\n'
PAGES['lv-wait.html'] = '<!--# include virtual="/l/seq2?k=v3&n=a&s=0.3" wait="yes" -->' + B.replace('K', 'v3') + '\n'
PAGES['lv-setb.html'] = '<!--# include virtual="/l/seq2?k=v4&n=a&s=0.3" set="v" -->' + B.replace('K', 'v4') + '[<!--# echo var="v" default="none" -->]\n'
for k in ['echo', 'if', 'wait', 'setb']:
    CASES.append(('lv-' + k, '/lv-%s.html' % k))
