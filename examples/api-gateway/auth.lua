-- The gateway's Lua: request signatures and JSON error bodies.
local _M = {}

-- key -> secret; a real gateway reads these from a file or a shared dict
local secrets = {
    alice = "alice-secret",
    bob = "bob-secret",
}

local reasons = {
    [400] = "bad request", [401] = "unauthorized", [403] = "forbidden",
    [404] = "not found", [429] = "too many requests", [500] = "internal error",
    [502] = "bad gateway", [503] = "unavailable", [504] = "gateway timeout",
}

function _M.check()
    if ngx.req.is_internal() then
        return -- an error page of a request checked already
    end
    local auth = ngx.var.http_authorization
    local key, sig = (auth or ""):match("^HMAC ([%w_-]+):(%S+)$")
    local secret = key and secrets[key]
    if not secret then
        return ngx.exit(ngx.HTTP_UNAUTHORIZED)
    end
    local want = ngx.encode_base64(ngx.hmac_sha1(secret, ngx.req.get_method() .. " " .. ngx.var.request_uri))
    if sig ~= want then
        return ngx.exit(ngx.HTTP_FORBIDDEN)
    end
    ngx.var.api_key = key
end

function _M.error_body()
    local status = ngx.status
    ngx.say('{"error":"', reasons[status] or "error", '","status":', status, '}')
end

return _M
