# require "ngx.process": type() in the master (init_by_lua), a worker and the privileged agent;
# enable_privileged_agent() in init_by_lua makes the master run the agent, which runs
# init_worker_by_lua, accepts nothing, is started again when it dies and replaced on a
# reload; get_master_pid(); the API's refusals.
#
#   prove -I t/lib t/445-lua-process.t
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/445-lua-process.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;

master_on();
workers(2);
plan 'no_plan';

run_tests();

__DATA__

=== TEST 1: the types, the agent's init_worker_by_lua, the master's pid
--- http_config
    lua_shared_dict procs 1m;
    init_by_lua_block {
        local process = require "ngx.process"
        master_type = process.type()
        assert(process.enable_privileged_agent())
    }
    init_worker_by_lua_block {
        local process = require "ngx.process"
        if process.type() == "privileged agent" then
            ngx.shared.procs:set("agent", ngx.worker.pid())
            ngx.shared.procs:set("agent_master", process.get_master_pid())
        end
    }
--- config
    location /t {
        content_by_lua_block {
            local process = require "ngx.process"
            local procs = ngx.shared.procs
            local agent
            for i = 1, 100 do
                agent = procs:get("agent")
                if agent then break end
                ngx.sleep(0.05)
            end
            ngx.say(master_type, " ", process.type(), " ", type(agent),
                    " ", agent ~= ngx.worker.pid(),
                    " ", procs:get("agent_master") == process.get_master_pid())
            local f = io.open("/proc/" .. agent .. "/cmdline")
            ngx.say((f:read("*a"):gsub("%z", " "):match("privileged agent process")))
            f:close()
        }
    }
--- request
GET /t
--- response_body
master worker number true true
privileged agent process
--- moongate_only



=== TEST 2: the agent is started again when it dies (the first one exits)
--- http_config
    lua_shared_dict procs 1m;
    init_by_lua_block { require("ngx.process").enable_privileged_agent() }
    init_worker_by_lua_block {
        if require("ngx.process").type() == "privileged agent" then
            local procs = ngx.shared.procs
            procs:set("agent" .. procs:incr("starts", 1, 0), ngx.worker.pid())
            if procs:get("starts") == 1 then
                ngx.timer.at(0.1, function()
                    local ffi = require "ffi"
                    ffi.cdef "void _exit(int status);"
                    ffi.C._exit(1)
                end)
            end
        end
    }
--- config
    location /t {
        content_by_lua_block {
            local procs = ngx.shared.procs
            for i = 1, 100 do
                if procs:get("starts") == 2 then break end
                ngx.sleep(0.05)
            end
            ngx.say(procs:get("starts"), " ", procs:get("agent1") ~= procs:get("agent2"))
        }
    }
--- request
GET /t
--- response_body
2 true
--- error_log eval
[qr/start privileged agent process \d+/, qr/process \d+ exited with code 1/]
--- moongate_only



=== TEST 3: enable_privileged_agent outside init_by_lua; a bad argument
--- http_config
    init_by_lua_block {
        local process = require "ngx.process"
        init_bad = select(2, process.enable_privileged_agent("x"))
    }
--- config
    location /t {
        content_by_lua_block {
            local process = require "ngx.process"
            ngx.say(process.enable_privileged_agent())
            ngx.say(init_bad)
        }
    }
--- request
GET /t
--- response_body
nilAPI disabled in the current context
bad 'connections' argument: number expected and greater than 0
