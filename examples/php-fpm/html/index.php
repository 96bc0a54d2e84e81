<?php
// The application's front controller: every path that is not a file ends here.
header('Content-Type: text/plain');
$body = file_get_contents('php://input');
echo "hello from PHP\n";
echo "script: ", $_SERVER['SCRIPT_NAME'], "\n";
echo "uri: ", $_SERVER['REQUEST_URI'], "\n";
echo "path_info: ", $_SERVER['PATH_INFO'] ?? '', "\n";
echo "method: ", $_SERVER['REQUEST_METHOD'], "\n";
echo "body: ", strlen($body), " bytes\n";
