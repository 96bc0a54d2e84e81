<?php
header('X-App: one');
header('X-Secret: hidden');
setcookie('sid', 'abc');
header('Content-Type: text/x-test');
if (isset($_GET['status'])) {
    http_response_code((int)$_GET['status']);
}
echo "body of headers.php\n";
