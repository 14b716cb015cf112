// A `node --import` preload for programs that cannot do OAuth themselves
// (the MCP conformance suite): every HTTP request the process makes, through
// fetch or through undici directly, carries `Authorization: Bearer
// $MCPGATE_BEARER` unless it already has an Authorization header. With
// MCPGATE_BEARER unset or empty, nothing is added.
//
// With MCPGATE_HTTP_LOG set, each fetch response is also appended to that
// file as a JSON line {method, url, status, www_authenticate}, so a test
// can tell why a scenario failed (the gateway's 401 challenge, not
// something else).
//
// Both fetch (Node's built-in one) and undici's request() go through the
// process-wide undici dispatcher, so one interceptor on it covers both: the
// suite's dns-rebinding scenario uses undici.request, the rest go through
// the TypeScript SDK's fetch.
import { appendFileSync } from "node:fs";
import { Agent, setGlobalDispatcher } from "undici";

const token = process.env.MCPGATE_BEARER ?? "";
const logFile = process.env.MCPGATE_HTTP_LOG ?? "";

// hasHeader reports whether headers (an object, a flat [name, value, ...]
// array, or an array of pairs, as undici accepts) has name.
function hasHeader(headers, name) {
  if (headers == null) return false;
  if (Array.isArray(headers)) {
    const flat = headers.flat();
    for (let i = 0; i < flat.length; i += 2) {
      if (String(flat[i]).toLowerCase() === name) return true;
    }
    return false;
  }
  return Object.keys(headers).some((k) => k.toLowerCase() === name);
}

function withBearer(headers) {
  if (hasHeader(headers, "authorization")) return headers;
  const value = `Bearer ${token}`;
  if (headers == null) return { authorization: value };
  if (Array.isArray(headers)) {
    return Array.isArray(headers[0]) ? [...headers, ["authorization", value]] : [...headers, "authorization", value];
  }
  return { ...headers, authorization: value };
}

// The interceptor adds the header; it leaves the handler alone.
const bearer = (dispatch) => (opts, handler) =>
  dispatch(token ? { ...opts, headers: withBearer(opts.headers) } : opts, handler);

setGlobalDispatcher(new Agent().compose(bearer));

// The log wraps fetch, which every MCP request of the suite goes through
// (the dns-rebinding scenario's undici requests report their statuses in
// the suite's own results).
if (logFile) {
  const inner = globalThis.fetch;
  globalThis.fetch = async (input, init) => {
    const isReq = input instanceof Request;
    const method = init?.method ?? (isReq ? input.method : "GET");
    const url = isReq ? input.url : String(input);
    const res = await inner(input, init);
    const line = { method, url, status: res.status, www_authenticate: res.headers.get("www-authenticate") };
    appendFileSync(logFile, JSON.stringify(line) + "\n");
    return res;
  };
}
