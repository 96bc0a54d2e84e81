#!/bin/sh
# Builds every libFuzzer target t/fuzz/fuzz_<name>.c into objs/fuzz/ and runs it for FUZZ_TIME
# seconds (default 60). A target includes the .c it fuzzes directly, so it builds standalone.
# Corpus: objs/fuzz/corpus_<name> (grows), seeded from t/fuzz/corpus_<name>/; dictionary:
# t/fuzz/<name>.dict. Exits nonzero if any target crashes; the input is left in objs/fuzz/.
# Usually run through `make fuzz`, which passes FUZZ_CFLAGS and FUZZ_LIBS from configure.

set -u
cd "$(dirname "$0")/../.."

FUZZ_TIME=${FUZZ_TIME:-60}
FUZZ_CFLAGS=${FUZZ_CFLAGS:-}
FUZZ_LIBS=${FUZZ_LIBS:-}
FUZZ_CC=${FUZZ_CC:-clang}

command -v "$FUZZ_CC" >/dev/null 2>&1 || {
    echo "$0: clang is needed for libFuzzer; install it with: apt-get install clang" \
         "(or run ./configure --install-deps)" >&2
    exit 1
}
[ -f objs/config.h ] || { echo "$0: run ./configure first" >&2; exit 1; }

mkdir -p objs/fuzz
failed=0
ran=0

for src in t/fuzz/fuzz_*.c; do
    [ -f "$src" ] || { echo "no fuzz targets in t/fuzz/"; exit 0; }
    target=$(basename "$src" .c)
    name=${target#fuzz_}
    bin=objs/fuzz/$target

    echo "== $target: building"
    # no-recover: undefined behaviour counts as a crash, like a sanitizer report
    # shellcheck disable=SC2086
    if ! $FUZZ_CC -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
            -Iobjs -Icore -Icore/http -Imodules -Ilua $FUZZ_CFLAGS -o "$bin" "$src" $FUZZ_LIBS; then
        echo "== $target: BUILD FAILED"
        failed=1
        continue
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
        -artifact_prefix="objs/fuzz/$target-" $dict "$corpus" $seeds >"$log" 2>&1
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

[ $failed = 0 ] && echo "fuzz: $ran target(s), no crash" || echo "fuzz: FAILED"
exit $failed
