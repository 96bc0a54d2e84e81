<?php
error_log('something went wrong here');
echo "still answered\n";
