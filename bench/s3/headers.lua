-- bench/s3/headers.lua: wrk script sending the headers in $BENCH_HEADERS
-- (a file of "Name: value" lines) with every request: a bearer token for
-- the REST GET, a SigV4 Authorization for the S3 GET, none for a
-- presigned URL.  Prints one BENCH line, like bench/https/auth.lua.
local f = os.getenv("BENCH_HEADERS")
if f ~= nil and f ~= "" then
	for line in io.lines(f) do
		local name, value = line:match("^([^:]+):%s*(.*)$")
		if name ~= nil then
			wrk.headers[name] = value
		end
	end
end

done = function(summary, latency, requests)
	io.write(string.format("BENCH requests=%d duration_us=%d "
	    .. "errors_status=%d errors_connect=%d errors_read=%d "
	    .. "errors_write=%d errors_timeout=%d p50_us=%d p99_us=%d\n",
	    summary.requests, summary.duration, summary.errors.status,
	    summary.errors.connect, summary.errors.read, summary.errors.write,
	    summary.errors.timeout, latency:percentile(50),
	    latency:percentile(99)))
end
