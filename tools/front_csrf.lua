-- Each anonymous reader's own CSRF token in the pages nginx keeps (tools/nginx.py).
--
-- Django sends nginx a page to keep with one placeholder wherever a CSRF token goes,
-- named in X-Front-Csrf, and the cookie to set in X-Front-Csrf-Cookie
-- (blog.pagecache._front_response). On the way out of every response, whether it came
-- from the cache or from Django, the placeholder is replaced with the reader's secret
-- masked afresh, as Django's own get_token() masks it: no two responses carry the same
-- bytes where the token is, so compression cannot reveal it (BREACH). A reader without
-- a valid CSRF cookie is given a new secret and the cookie with it. The placeholder is
-- as long as a masked token, so Content-Length holds.
--
-- Randomness: nginx's $request_id, 128 bits from OpenSSL's RAND_bytes for each request,
-- stretched with SHA-1 and a counter for the several masks (and secret) a response needs.

local M = {}

-- django.middleware.csrf: CSRF_ALLOWED_CHARS, CSRF_SECRET_LENGTH.
local CHARS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
local SECRET_LENGTH = 32
local INDEX = {}
for i = 1, #CHARS do
    INDEX[CHARS:byte(i)] = i - 1
end

-- n characters of CHARS, uniformly (bytes of 248 and over are dropped: 248 = 4 * 62).
local function random_string(n)
    local ctx = ngx.ctx
    local out = {}
    while #out < n do
        ctx.drawn = (ctx.drawn or 0) + 1
        local bytes = ngx.sha1_bin(ngx.var.request_id .. ":" .. ctx.drawn)
        for i = 1, #bytes do
            local b = bytes:byte(i)
            if b < 248 and #out < n then
                local k = b % 62 + 1
                out[#out + 1] = CHARS:sub(k, k)
            end
        end
    end
    return table.concat(out)
end

local function well_formed(value)
    if #value ~= SECRET_LENGTH and #value ~= 2 * SECRET_LENGTH then
        return false
    end
    for i = 1, #value do
        if not INDEX[value:byte(i)] then
            return false
        end
    end
    return true
end

-- The secret in a cookie, as Django reads it: the secret itself, or (a cookie set by
-- Django before 4.1) a masked token, unmasked. nil when it is not one.
local function secret_of(cookie)
    if not cookie or not well_formed(cookie) then
        return nil
    end
    if #cookie == SECRET_LENGTH then
        return cookie
    end
    local out = {}
    for i = 1, SECRET_LENGTH do
        local mask = INDEX[cookie:byte(i)]
        local cipher = INDEX[cookie:byte(SECRET_LENGTH + i)]
        local k = (cipher - mask) % 62 + 1
        out[i] = CHARS:sub(k, k)
    end
    return table.concat(out)
end

-- django.middleware.csrf._mask_cipher_secret
local function masked(secret)
    local mask = random_string(SECRET_LENGTH)
    local out = { mask }
    for i = 1, SECRET_LENGTH do
        local k = (INDEX[secret:byte(i)] + INDEX[mask:byte(i)]) % 62 + 1
        out[i + 1] = CHARS:sub(k, k)
    end
    return table.concat(out)
end

local function cookie_value(name)
    return ngx.var["cookie_" .. name]
end

-- rewrite phase: an anonymous reader without a valid cookie gets a new secret with this
-- response, so a page their browser kept carries a token of an old one: no 304 for them.
function M.request(cookie_name)
    if ngx.var.front_cache_skip == "0" and not secret_of(cookie_value(cookie_name)) then
        ngx.req.clear_header("If-None-Match")
        ngx.req.clear_header("If-Modified-Since")
    end
end

-- header filter: the placeholder and cookie headers are read and never sent on.
function M.header()
    local placeholder = ngx.header["X-Front-Csrf"]
    local template = ngx.header["X-Front-Csrf-Cookie"]
    ngx.header["X-Front-Csrf"] = nil
    ngx.header["X-Front-Csrf-Cookie"] = nil
    if not placeholder or not template then
        return
    end
    local name = template:match("^([^=]+)=")
    local secret = secret_of(cookie_value(name))
    if not secret then
        secret = random_string(SECRET_LENGTH)
        local at = template:find("__secret__", 1, true)
        local cookie = template:sub(1, at - 1) .. secret .. template:sub(at + #"__secret__")
        local cookies = ngx.header["Set-Cookie"]
        if type(cookies) == "table" then
            cookies[#cookies + 1] = cookie
        elseif cookies then
            cookies = { cookies, cookie }
        else
            cookies = cookie
        end
        ngx.header["Set-Cookie"] = cookies
    end
    ngx.ctx.csrf = { placeholder = placeholder, secret = secret, tail = "" }
end

-- body filter: the placeholder may be cut between two buffers, so the last bytes of
-- each (fewer than a placeholder) wait for the next.
function M.body()
    local csrf = ngx.ctx.csrf
    if not csrf then
        return
    end
    local data = csrf.tail .. (ngx.arg[1] or "")
    local placeholder = csrf.placeholder
    local out, at = {}, 1
    while true do
        local first, last = data:find(placeholder, at, true)
        if not first then
            break
        end
        out[#out + 1] = data:sub(at, first - 1)
        out[#out + 1] = masked(csrf.secret)
        at = last + 1
    end
    local rest = data:sub(at)
    if ngx.arg[2] then
        out[#out + 1] = rest
        csrf.tail = ""
    else
        local keep = math.min(#rest, #placeholder - 1)
        out[#out + 1] = rest:sub(1, #rest - keep)
        csrf.tail = rest:sub(#rest - keep + 1)
    end
    ngx.arg[1] = table.concat(out)
end

return M
