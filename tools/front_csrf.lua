-- Each anonymous reader's own CSRF token in the pages nginx keeps (tools/nginx.py).
--
-- Django sends nginx a page to keep with one placeholder wherever a CSRF token goes,
-- and says in X-Front-Csrf what it is, where each starts, and the cookie to set
-- (blog.pagecache._front_response). On the way out of every response, whether it came
-- from the cache or from Django, the placeholder is replaced with the reader's secret
-- masked afresh, as Django's own get_token() masks it: no two responses carry the same
-- bytes where the token is, so compression cannot reveal it (BREACH). A reader without
-- a valid CSRF cookie is given a new secret and the cookie with it. The placeholder is
-- as long as a masked token, so Content-Length holds.
--
-- Randomness: OpenSSL's RAND_bytes (the generator behind nginx's $request_id), drawn
-- 4 KB at a time into each worker's own pool: one call per ~60 responses, where one a
-- response ($request_id's) cost more than all the rest of the token's work. The pool
-- is empty in the master, so each worker fills its own after the fork.

local M = {}

local ffi = require("ffi")
local byte, char, find, match, sub = string.byte, string.char, string.find, string.match, string.sub
local unpack = unpack

ffi.cdef([[int RAND_bytes(unsigned char *buf, int num);]])
local POOL_SIZE = 4096
local pool = ffi.new("unsigned char[?]", POOL_SIZE)
local left = 0 -- bytes of the pool not yet used, taken from the end

-- django.middleware.csrf: CSRF_ALLOWED_CHARS, CSRF_SECRET_LENGTH.
local CHARS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
local SECRET_LENGTH = 32
local CODES = { byte(CHARS, 1, -1) } -- a character's byte, by its place (from 1)
local INDEX = {} -- a character's place (from 0), by its byte
for i = 1, #CHARS do
    INDEX[CODES[i]] = i - 1
end

-- n characters of CHARS, uniformly (bytes of 248 and over are dropped: 248 = 4 * 62).
local function random_string(n)
    local out, count = {}, 0
    while count < n do
        if left == 0 then
            if ffi.C.RAND_bytes(pool, POOL_SIZE) ~= 1 then
                error("front_csrf: RAND_bytes failed")
            end
            left = POOL_SIZE
        end
        left = left - 1
        local b = pool[left]
        if b < 248 then
            count = count + 1
            out[count] = CODES[b % 62 + 1]
        end
    end
    return char(unpack(out))
end

local function well_formed(value)
    if #value ~= SECRET_LENGTH and #value ~= 2 * SECRET_LENGTH then
        return false
    end
    for i = 1, #value do
        if not INDEX[byte(value, i)] then
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
        local mask = INDEX[byte(cookie, i)]
        local cipher = INDEX[byte(cookie, SECRET_LENGTH + i)]
        out[i] = CODES[(cipher - mask) % 62 + 1]
    end
    return char(unpack(out))
end

-- django.middleware.csrf._mask_cipher_secret
local function masked(secret)
    local mask = random_string(SECRET_LENGTH)
    local out = {}
    for i = 1, SECRET_LENGTH do
        out[i] = CODES[(INDEX[byte(secret, i)] + INDEX[byte(mask, i)]) % 62 + 1]
    end
    return mask .. char(unpack(out))
end

local function cookie_value(name)
    return ngx.var["cookie_" .. name]
end

-- rewrite phase: a browser without a valid cookie gets a new secret with this page, so
-- a page it kept carries tokens of an old one: no 304 for it. Feeds carry no token, and
-- a feed reader (no cookie, no text/html in Accept) keeps its 304s.
function M.request(cookie_name)
    if ngx.var.front_cache_skip ~= "0" then
        return
    end
    local accept = ngx.var.http_accept
    if accept and find(accept, "text/html", 1, true) and not secret_of(cookie_value(cookie_name)) then
        ngx.req.clear_header("If-None-Match")
        ngx.req.clear_header("If-Modified-Since")
    end
end

-- header filter: X-Front-Csrf (never sent on: proxy_hide_header, which costs less than
-- clearing it here) says, space-separated:
-- the placeholder, where each starts (offsets, comma-separated), and the cookie to set
-- (the rest, with __secret__ for the value).
function M.header()
    local value = ngx.var.upstream_http_x_front_csrf
    if not value then
        return
    end
    local first = find(value, " ", 1, true)
    local second = first and find(value, " ", first + 1, true)
    if not second then
        ngx.log(ngx.ERR, "front_csrf: malformed X-Front-Csrf")
        return
    end
    local placeholder = sub(value, 1, first - 1)
    local template = sub(value, second + 1)
    local at, from = {}, first + 1
    while from < second do
        local comma = find(value, ",", from, true)
        local stop = (comma and comma < second) and comma or second
        at[#at + 1] = tonumber(sub(value, from, stop - 1))
        from = stop + 1
    end
    local state = {}
    local name = match(template, "^([^=]+)=")
    local secret = secret_of(cookie_value(name))
    if not secret then
        secret = random_string(SECRET_LENGTH)
        local start = find(template, "__secret__", 1, true)
        local cookie = sub(template, 1, start - 1) .. secret .. sub(template, start + #"__secret__")
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
    -- sent: bytes of the body already passed on; next: the first placeholder not
    -- wholly passed on; token: its masked token, once made.
    state.placeholder, state.secret, state.at, state.next, state.sent = placeholder, secret, at, 1, 0
    ngx.ctx.csrf = state
end

-- body filter: each placeholder is where Django said it starts (X-Front-Csrf), so
-- the page is not searched, and a buffer with none in it is passed on untouched. A
-- placeholder cut between two buffers gets each part of its token in its own. Bytes
-- that are not the placeholder are never replaced.
function M.body()
    local csrf = ngx.ctx.csrf
    if not csrf or csrf.next > #csrf.at then
        return
    end
    local chunk = ngx.arg[1]
    local first = csrf.sent -- the chunk's first byte, counted from 0
    local last = first + #chunk -- one past its last
    csrf.sent = last
    local placeholder, size = csrf.placeholder, #csrf.placeholder
    local out, from = nil, 1
    while csrf.next <= #csrf.at do
        local start = csrf.at[csrf.next]
        if start >= last then
            break
        end
        local stop = start + size -- one past the placeholder's last byte
        local a, b = math.max(start, first), math.min(stop, last)
        local i, j = a - start + 1, b - start -- the part of the placeholder in this chunk
        if chunk:sub(a - first + 1, b - first) == placeholder:sub(i, j) then
            csrf.token = csrf.token or masked(csrf.secret)
            out = out or {}
            out[#out + 1] = chunk:sub(from, a - first)
            out[#out + 1] = csrf.token:sub(i, j)
            from = b - first + 1
        else
            ngx.log(ngx.ERR, "front_csrf: no placeholder at byte ", start)
        end
        if stop > last then
            break -- the rest of it is in the next chunk
        end
        csrf.next = csrf.next + 1
        csrf.token = nil
    end
    if out then
        out[#out + 1] = chunk:sub(from)
        ngx.arg[1] = out
    end
end

return M
