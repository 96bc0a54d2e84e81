<?php
no_such_function_at_all();
