<?php
// 1 MB of a 16-byte pattern, in 64 KB writes
$piece = str_repeat('0123456789abcdef', 4096);
for ($i = 0; $i < 16; $i++) {
    echo $piece;
    flush();
}
