<?php
// the CGI variables the server sent, one per line
foreach (['SCRIPT_NAME', 'SCRIPT_FILENAME', 'PATH_INFO', 'QUERY_STRING', 'REQUEST_METHOD',
          'REQUEST_URI', 'DOCUMENT_URI', 'CONTENT_LENGTH', 'CONTENT_TYPE', 'GATEWAY_INTERFACE',
          'SERVER_PROTOCOL', 'HTTP_HOST', 'HTTP_X_FOO', 'MY_PARAM', 'EMPTY_PARAM'] as $k) {
    echo $k, '=', array_key_exists($k, $_SERVER) ? $_SERVER[$k] : '(unset)', "\n";
}
