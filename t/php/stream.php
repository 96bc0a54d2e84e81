<?php
// Says "started" (flushed: output_buffering = 0) before it reads php://input, then how much it
// read (and its md5) and CONTENT_LENGTH as it came: php-fpm reads CONTENT_LENGTH bytes of
// FCGI_STDIN, none when it is empty.
header('Content-Type: text/plain');
echo "started\n";
flush();
$in = file_get_contents('php://input');
echo "read ", strlen($in), " ", md5($in), "\n";
echo "CONTENT_LENGTH=[", $_SERVER['CONTENT_LENGTH'] ?? '(unset)', "]\n";
