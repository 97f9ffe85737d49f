-- bench/soak/mix.lua: the soak's mixed load (bench/soak/run.sh).
-- Each request is one of (out of 20):
--   8 small GET (reader), 1 GET of 1 MiB (reader), 3 PUT of 4 KiB
--   (writer, over 1,000 keys: new versions), 3 listings (reader),
--   2 denied (reader PUT: 403), 2 unauthenticated (401), 1 health.
-- The response() hook counts statuses per thread; done() adds them up:
-- anything but 200/201/401/403 is an error, as is a 401 or 403 count
-- that is not the number of requests meant to get it (wrk answers in
-- order; requests cut at the end are at most one per connection).
-- got and sent are globals: done() reads them from each thread.
local reader = os.getenv("SOAK_READER")
local writer = os.getenv("SOAK_WRITER")
local ns = os.getenv("SOAK_NS") or "soak"
local threads = {}
local n = 0
sent = { denied = 0, unauth = 0 }
got = {}
local body4k = string.rep("s", 4096)

setup = function(thread)
	table.insert(threads, thread)
end

local function h(tok)
	local t = { ["Connection"] = "keep-alive" }
	if tok ~= nil then t["Authorization"] = "Bearer " .. tok end
	return t
end

request = function()
	n = n + 1
	local k = n % 20
	local obj = "/v1/ns/" .. ns .. "/objects/"
	if k < 8 then
		return wrk.format("GET", obj .. "small-" .. (n % 200), h(reader))
	elseif k == 8 then
		return wrk.format("GET", obj .. "big", h(reader))
	elseif k < 12 then
		local hh = h(writer)
		hh["Content-Type"] = "application/octet-stream"
		return wrk.format("PUT", obj .. "w/" .. (n % 1000), hh, body4k)
	elseif k < 15 then
		return wrk.format("GET", "/v1/ns/" .. ns ..
		    "/objects?prefix=small-1&limit=50", h(reader))
	elseif k < 17 then
		sent.denied = sent.denied + 1
		local hh = h(reader)
		hh["Content-Type"] = "application/octet-stream"
		return wrk.format("PUT", obj .. "denied", hh, "no")
	elseif k < 19 then
		sent.unauth = sent.unauth + 1
		return wrk.format("GET", obj .. "small-1", h(nil))
	end
	return wrk.format("GET", "/v1/health", h(nil))
end

response = function(status, headers, body)
	got[status] = (got[status] or 0) + 1
end

done = function(summary, latency, requests)
	local tot, den, una = {}, 0, 0
	for _, t in ipairs(threads) do
		local g = t:get("got")
		for s, c in pairs(g) do tot[s] = (tot[s] or 0) + c end
		local st = t:get("sent")
		den = den + st.denied
		una = una + st.unauth
	end
	local other = 0
	local line = ""
	for s, c in pairs(tot) do
		line = line .. " s" .. s .. "=" .. c
		if s ~= 200 and s ~= 201 and s ~= 401 and s ~= 403 then
			other = other + c
		end
	end
	io.write(string.format("SOAK requests=%d duration_us=%d "
	    .. "errors_connect=%d errors_read=%d errors_write=%d "
	    .. "errors_timeout=%d unexpected_status=%d sent_denied=%d "
	    .. "sent_unauth=%d p50_us=%d p99_us=%d%s\n",
	    summary.requests, summary.duration, summary.errors.connect,
	    summary.errors.read, summary.errors.write, summary.errors.timeout,
	    other, den, una, latency:percentile(50), latency:percentile(99),
	    line))
end
