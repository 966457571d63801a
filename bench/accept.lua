-- POST the same signed body with a new X-GitHub-Delivery each time (a fresh delivery, never a dedupe hit).
local counter = 0
local prefix = ""

function setup(thread)
  thread:set("prefix", tostring(math.random(1, 1e9)))
end

function init(args)
  local f = assert(io.open(os.getenv("BENCH_BODY"), "rb"))
  wrk.body = f:read("*a")
  f:close()
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
  wrk.headers["X-GitHub-Event"] = "pull_request"
  wrk.headers["X-Hub-Signature-256"] = os.getenv("BENCH_SIGNATURE")
  prefix = tostring(math.random(1, 1e9))
end

function request()
  counter = counter + 1
  local headers = {}
  for k, v in pairs(wrk.headers) do headers[k] = v end
  headers["X-GitHub-Delivery"] = prefix .. "-" .. counter
  return wrk.format(nil, nil, headers, nil)
end

function done(summary, latency, requests)
  io.write(string.format("RESULT %d %d %d %d %d %d\n", summary.requests, summary.duration,
    latency:percentile(50), latency:percentile(99), summary.errors.status, summary.errors.connect))
end
