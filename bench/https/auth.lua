-- bench/https/auth.lua: wrk script for the small-GET benchmark.
-- Every request carries "Authorization: Bearer $BENCH_TOKEN" (nginx gets
-- the same header and ignores it, so both sides parse the same bytes).
local token = os.getenv("BENCH_TOKEN")
if token ~= nil and token ~= "" then
	wrk.headers["Authorization"] = "Bearer " .. token
end

-- No response() hook: it would make wrk parse every response in Lua and
-- eat client CPU on a 2-core machine.  summary.errors.status counts the
-- responses that were not 2xx/3xx.
done = function(summary, latency, requests)
	io.write(string.format("BENCH requests=%d duration_us=%d "
	    .. "errors_status=%d errors_connect=%d errors_read=%d "
	    .. "errors_write=%d errors_timeout=%d p50_us=%d p99_us=%d\n",
	    summary.requests, summary.duration, summary.errors.status,
	    summary.errors.connect, summary.errors.read, summary.errors.write,
	    summary.errors.timeout, latency:percentile(50),
	    latency:percentile(99)))
end
