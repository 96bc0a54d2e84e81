#!/bin/sh
# Builds every libFuzzer target t/fuzz/fuzz_<name>.c into objs/fuzz/ and runs it for FUZZ_TIME
# seconds (default 60). A target either includes the .c it fuzzes directly and builds standalone,
# or says "fuzz-link: libmoongate [LDFLAGS]" in its opening comment: it is then linked with the
# whole core (everything but core/main.c) built with the fuzzer flags into objs/fuzz/lib/.
# FUZZ_TARGETS="parse conf" limits the run to those targets; FUZZ_TIME=0 only builds.
# FUZZ_ARGS adds libFuzzer flags, e.g. FUZZ_ARGS=-runs=100000000 to stop after that many inputs.
# Inputs that once crashed a target are kept as t/fuzz/crashes/<name>-* and replayed first.
# Corpus: objs/fuzz/corpus_<name> (grows), seeded from t/fuzz/corpus_<name>/; dictionary:
# t/fuzz/<name>.dict. Exits nonzero if any target crashes; the input is left in objs/fuzz/.
# Usually run through `make fuzz`, which passes FUZZ_CFLAGS and FUZZ_LIBS from configure.

set -u
cd "$(dirname "$0")/../.." || exit 1

FUZZ_TIME=${FUZZ_TIME:-60}
FUZZ_CFLAGS=${FUZZ_CFLAGS:-}
FUZZ_LIBS=${FUZZ_LIBS:-}
FUZZ_CC=${FUZZ_CC:-clang}
FUZZ_TARGETS=${FUZZ_TARGETS:-}
FUZZ_ARGS=${FUZZ_ARGS:-}

command -v "$FUZZ_CC" >/dev/null 2>&1 || {
    echo "$0: clang is needed for libFuzzer; install it with: apt-get install clang" \
         "(or run ./configure --install-deps)" >&2
    exit 1
}
[ -f objs/config.h ] || { echo "$0: run ./configure first" >&2; exit 1; }

# Outside `make fuzz`, take the library flags from configure's output.
conf_var() {
    sed -n "s/^$1 = //p" objs/Makefile.conf 2>/dev/null
}
[ -n "$FUZZ_CFLAGS" ] || FUZZ_CFLAGS=$(conf_var DEP_CFLAGS)
[ -n "$FUZZ_LIBS" ] || FUZZ_LIBS=$(conf_var LIBS)

SAN="-fsanitize=address,undefined -fno-sanitize-recover=undefined"
INCS="-Iobjs -Icore -Icore/http -Icore/stream -Imodules -Ilua"
LIB=objs/fuzz/lib/libmoongate.a

# The core as a library with coverage instrumentation (fuzzer-no-link: no second main). An
# object is rebuilt when its .c, any header or the configuration is newer; the archive is
# always recreated so that a deleted source leaves nothing behind.
build_lib() {
    objs=
    for c in core/*.c core/http/*.c core/stream/*.c modules/*.c lua/*.c; do
        if [ ! -f "$c" ] || [ "$c" = core/main.c ]; then
            continue
        fi
        o=objs/fuzz/lib/${c%.c}.o
        objs="$objs $o"
        if [ -f "$o" ] && [ -z "$(find "$c" objs/config.h core modules lua \
                \( -path "$c" -o -name '*.h' \) -newer "$o" 2>/dev/null | head -n 1)" ]; then
            continue
        fi
        mkdir -p "$(dirname "$o")"
        # shellcheck disable=SC2086
        $FUZZ_CC -std=gnu11 -D_GNU_SOURCE -g -O1 -fno-omit-frame-pointer \
            -fsanitize=fuzzer-no-link $SAN $INCS $FUZZ_CFLAGS -c -o "$o" "$c" || return 1
    done
    rm -f "$LIB"
    # shellcheck disable=SC2086
    ar rcs "$LIB" $objs
}

mkdir -p objs/fuzz
lib_built=0
failed=0
ran=0

for src in t/fuzz/fuzz_*.c; do
    [ -f "$src" ] || { echo "no fuzz targets in t/fuzz/"; exit 0; }
    target=$(basename "$src" .c)
    name=${target#fuzz_}
    bin=objs/fuzz/$target
    if [ -n "$FUZZ_TARGETS" ]; then
        case " $FUZZ_TARGETS " in
        *" $name "*|*" $target "*) ;;
        *) continue ;;
        esac
    fi

    # "fuzz-link: libmoongate -Wl,..." in the target's opening comment
    link=$(sed -n 's/^ *\** *fuzz-link: *//p' "$src" | head -n 1)
    extra=
    for w in $link; do
        case $w in
        libmoongate)
            if [ $lib_built = 0 ]; then
                echo "== building $LIB with the fuzzer flags"
                build_lib || { echo "== $LIB: BUILD FAILED"; exit 1; }
                lib_built=1
            fi
            extra="$extra $LIB" ;;
        *) extra="$extra $w" ;;
        esac
    done

    echo "== $target: building"
    # no-recover: undefined behaviour counts as a crash, like a sanitizer report
    # shellcheck disable=SC2086
    if ! $FUZZ_CC -std=gnu11 -D_GNU_SOURCE -g -O1 -fsanitize=fuzzer $SAN \
            $INCS $FUZZ_CFLAGS -o "$bin" "$src" $extra $FUZZ_LIBS; then
        echo "== $target: BUILD FAILED"
        failed=1
        continue
    fi

    [ "$FUZZ_TIME" = 0 ] && { echo "== $target: built $bin"; continue; }

    # inputs that once crashed this target (t/fuzz/crashes/<name>-*) must pass first
    old=$(ls t/fuzz/crashes/"$name"-* 2>/dev/null)
    if [ -n "$old" ]; then
        # shellcheck disable=SC2086
        if ! "$bin" -timeout=10 -rss_limit_mb=2048 $old >objs/fuzz/$target-regress.log 2>&1; then
            echo "== $target: a saved crash input fails again; see objs/fuzz/$target-regress.log"
            grep -a 'Running:\|ERROR: \|runtime error:' objs/fuzz/$target-regress.log | tail -n 3
            failed=1
            continue
        fi
        echo "== $target: $(echo "$old" | wc -l) saved crash input(s) pass"
    fi

    corpus=objs/fuzz/corpus_$name
    mkdir -p "$corpus"
    # libFuzzer writes new inputs to the first directory only, so the checked-in seeds stay as
    # they are; both spellings of the seed directory and dictionary are accepted.
    seeds=
    for d in "t/fuzz/corpus_$name" "t/fuzz/corpus_$target"; do
        [ -d "$d" ] && seeds="$seeds $d"
    done
    dict=
    for d in "t/fuzz/$name.dict" "t/fuzz/$target.dict"; do
        [ -f "$d" ] && dict="-dict=$d" && break
    done

    echo "== $target: fuzzing for ${FUZZ_TIME}s${dict:+ with ${dict#-dict=}}"
    log=objs/fuzz/$target.log
    # shellcheck disable=SC2086
    "$bin" -max_total_time="$FUZZ_TIME" -timeout=10 -print_final_stats=1 \
        -artifact_prefix="objs/fuzz/$target-" $FUZZ_ARGS $dict "$corpus" $seeds >"$log" 2>&1
    rc=$?
    ran=$((ran + 1))

    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
    if [ $rc -ne 0 ]; then
        echo "== $target: FAILED (exit $rc) after ${execs:-?} executions; from $log:"
        # the report's head (kind of error, stack) and summary, not ASan's shadow-byte map
        awk '/ERROR: |runtime error:|deadly signal|ALARM:|out-of-memory/ { p = 1 }
             p && n < 30 { print; n++ } /^SUMMARY:/ && n >= 30 { print }' "$log"
        ls objs/fuzz/"$target"-crash-* objs/fuzz/"$target"-leak-* \
           objs/fuzz/"$target"-timeout-* objs/fuzz/"$target"-oom-* 2>/dev/null | sed 's/^/   input: /'
        failed=1
    else
        echo "== $target: ok, ${execs:-?} executions, corpus $(ls "$corpus" | wc -l) inputs"
    fi
done

[ "$FUZZ_TIME" = 0 ] && exit $failed
[ $failed = 0 ] && echo "fuzz: $ran target(s), no crash" || echo "fuzz: FAILED"
exit $failed
