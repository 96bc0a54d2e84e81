<?php
// t/616: counts its requests in COUNT_FILE, answers a 304 to If-None-Match "v1", a 500 with ?fail
$f = $_SERVER['COUNT_FILE'];
$n = (int)@file_get_contents($f) + 1;
file_put_contents($f, $n);
header('Cache-Control: max-age=1');
header('ETag: "v1"');
if (($_SERVER['HTTP_IF_NONE_MATCH'] ?? '') === '"v1"') {
    http_response_code(304);
    exit;
}
if (isset($_GET['fail'])) {
    http_response_code(500);
}
echo "n=$n\n";
