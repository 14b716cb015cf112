// A headless MCP host built on the TypeScript SDK's own OAuth client
// (OAuthClientProvider on StreamableHTTPClientTransport), run by
// internal/e2e/tsclient_test.go against a real gateway. It knows nothing
// but the MCP URL: it meets the 401, discovers, registers (DCR) or names
// its metadata document (CIMD), lets a "browser" walk the gateway's login
// and consent pages, gets a token, lists and calls tools, steps up on 403
// insufficient_scope, and refreshes once its access token has expired.
//
// It prints one JSON object per line on stdout, for the test to assert on:
//   {"event":"http", "hop":"POST /mcp/files tools/call echo -> 200",  every SDK request,
//    "www_authenticate": "..."}                                      with the challenge if any
//   {"event":"discovery", resource_metadata, as_metadata}              what the SDK discovered
//   {"event":"authorize", client_id, scope, resource, redirect_uri}   the user is asked
//   {"event":"tokens", scope, refresh, access_token}                  the SDK saved tokens
//   {"event":"tools", names} / {"event":"result", tool, text}
//   {"event":"stepup-refused-by-sdk", message}                        see stepUp below
//   {"event":"awaiting-expiry"}  then it waits for a line on stdin: the test
//                                moves the gateway's clock past the token's expiry
//   {"event":"done"} or {"event":"fatal", message}
//
// Usage: node client.mjs --url URL --redirect URL --username U --password P
//          --admin-tool NAME [--client-id-url HTTPS_URL]
// With --client-id-url the client identifies itself by that metadata
// document (CIMD); without it, it registers dynamically. A gateway served
// over https is trusted through NODE_EXTRA_CA_CERTS.
import { createInterface } from "node:readline";
import { randomBytes } from "node:crypto";
import { parseArgs } from "node:util";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport, StreamableHTTPError } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { UnauthorizedError, auth } from "@modelcontextprotocol/sdk/client/auth.js";
import { Browser } from "./browser.mjs";

const { values: opt } = parseArgs({
  options: {
    url: { type: "string" },
    redirect: { type: "string" },
    username: { type: "string" },
    password: { type: "string" },
    "admin-tool": { type: "string" },
    "client-id-url": { type: "string" },
  },
});
for (const k of ["url", "redirect", "username", "password", "admin-tool"]) {
  if (!opt[k]) throw new Error(`--${k} is required`);
}
const mcpURL = new URL(opt.url);

function emit(obj) {
  process.stdout.write(JSON.stringify(obj) + "\n");
}

// challenge is the last WWW-Authenticate the MCP endpoint sent.
let challenge = "";

// recordingFetch is the transport's fetch, and so the fetch of every SDK
// request: MCP, metadata, registration, token. It labels each hop as the
// Go tests' recorder does, with the JSON-RPC method of MCP POSTs and the
// grant type of token requests.
async function recordingFetch(input, init = {}) {
  const url = new URL(input instanceof Request ? input.url : String(input));
  const method = init.method ?? (input instanceof Request ? input.method : "GET");
  let label = `${method} ${url.pathname}`;
  const body = typeof init.body === "string" ? init.body : init.body instanceof URLSearchParams ? init.body.toString() : "";
  if (method === "POST" && url.pathname === mcpURL.pathname && body) {
    label += " " + rpcLabel(body);
  } else if (method === "POST" && body.includes("grant_type=")) {
    label += " " + new URLSearchParams(body).get("grant_type");
  }
  try {
    const res = await fetch(input, init);
    const hop = { event: "http", hop: `${label} -> ${res.status}` };
    if (res.headers.has("www-authenticate")) hop.www_authenticate = res.headers.get("www-authenticate");
    emit(hop);
    if (url.pathname === mcpURL.pathname && hop.www_authenticate) challenge = hop.www_authenticate;
    return res;
  } catch (err) {
    emit({ event: "http", hop: `${label} -> error`, message: String(err) });
    throw err;
  }
}

function rpcLabel(body) {
  try {
    const msg = JSON.parse(body);
    return msg.params?.name ? `${msg.method} ${msg.params.name}` : (msg.method ?? "?");
  } catch {
    return "?";
  }
}

// Provider is the host's OAuthClientProvider: it keeps everything in
// memory, and its redirectToAuthorization hands the URL to the browser,
// which walks the gateway's pages as the user and keeps the code of the
// final redirect for finishAuth.
class Provider {
  constructor(browser) {
    this.browser = browser;
    this.client = undefined;
    this.saved = undefined;
    this.verifier = "";
    this.expectedState = "";
    this.code = undefined;
    if (opt["client-id-url"]) this.clientMetadataUrl = opt["client-id-url"];
  }
  get redirectUrl() {
    return opt.redirect;
  }
  get clientMetadata() {
    return {
      client_name: "TypeScript SDK e2e client",
      redirect_uris: [opt.redirect],
      grant_types: ["authorization_code", "refresh_token"],
      response_types: ["code"],
      token_endpoint_auth_method: "none",
    };
  }
  state() {
    this.expectedState = randomBytes(16).toString("base64url");
    return this.expectedState;
  }
  clientInformation() {
    return this.client;
  }
  saveClientInformation(info) {
    this.client = info;
    emit({ event: "client", client_id: info.client_id });
  }
  tokens() {
    return this.saved;
  }
  saveTokens(tokens) {
    this.saved = tokens;
    emit({ event: "tokens", scope: tokens.scope ?? "", refresh: Boolean(tokens.refresh_token), access_token: tokens.access_token });
  }
  // saveDiscoveryState receives what the SDK discovered before it
  // registers or authorizes. The host checks what the MCP authorization
  // spec asks of clients and SDK 1.x does not check: an authorization
  // server that does not list S256 in code_challenge_methods_supported
  // must be refused, absent included. (No discoveryState(): every auth()
  // discovers afresh.)
  saveDiscoveryState(state) {
    const as = state.authorizationServerMetadata;
    emit({ event: "discovery", resource_metadata: state.resourceMetadata ?? null, as_metadata: as ?? null });
    if (!as?.code_challenge_methods_supported?.includes("S256")) {
      throw new Error("the authorization server does not advertise PKCE S256 (code_challenge_methods_supported): refusing to proceed");
    }
  }
  saveCodeVerifier(v) {
    this.verifier = v;
  }
  codeVerifier() {
    return this.verifier;
  }
  async redirectToAuthorization(url) {
    const q = url.searchParams;
    emit({
      event: "authorize",
      client_id: q.get("client_id"),
      scope: q.get("scope") ?? "",
      resource: q.get("resource") ?? "",
      redirect_uri: q.get("redirect_uri"),
    });
    const back = await this.browser.authorize(url, opt.redirect);
    if (back.get("error")) throw new Error(`authorization refused: ${back.get("error")}: ${back.get("error_description")}`);
    // The host's own checks on the redirect (RFC 6749 §10.12, RFC 9207):
    // its state, and the issuer it started with.
    if (back.get("state") !== this.expectedState) throw new Error(`state ${back.get("state")}, want ${this.expectedState}`);
    if (back.get("iss") !== url.origin) throw new Error(`iss ${back.get("iss")}, want ${url.origin}`);
    this.code = back.get("code");
  }
  // takeCode returns the code of the last authorization, once.
  takeCode() {
    const c = this.code;
    this.code = undefined;
    return c;
  }
}

const provider = new Provider(new Browser(opt.username, opt.password));

function newTransport() {
  return new StreamableHTTPClientTransport(mcpURL, { authProvider: provider, fetch: recordingFetch });
}

// connect opens a session. The first attempt meets the 401, and the SDK
// authorizes and throws UnauthorizedError, as it does for a browser
// redirect; the host then finishes with the code and connects again.
async function connect() {
  for (let attempt = 0; attempt < 2; attempt++) {
    const transport = newTransport();
    const client = new Client({ name: "mcpgate-e2e-ts", version: "1" });
    try {
      await client.connect(transport);
      emit({ event: "connected", server: client.getServerVersion()?.name ?? "" });
      return client;
    } catch (err) {
      if (!(err instanceof UnauthorizedError) || provider.code === undefined) throw err;
      await transport.finishAuth(provider.takeCode());
    }
  }
  throw new Error("still unauthorized after one authorization");
}

async function listTools(client) {
  const res = await client.listTools();
  emit({ event: "tools", names: res.tools.map((t) => t.name) });
}

async function call(client, tool, args = {}) {
  const res = await client.callTool({ name: tool, arguments: args });
  const text = res.content?.find((c) => c.type === "text")?.text ?? "";
  emit({ event: "result", tool, text, is_error: Boolean(res.isError) });
}

// stepUp calls tool, which needs a scope the token lacks. On 403
// insufficient_scope the SDK (1.x) calls auth() with the challenged scope,
// but auth() prefers the refresh token it holds, and a refresh cannot
// widen a grant (RFC 6749 §6; the gateway keeps the scope), so the retry
// meets the same 403 and the SDK gives up with "403 after trying
// upscoping" (modelcontextprotocol/typescript-sdk#2255). A host then does
// what the spec's step-up flow asks: it sets the refresh token aside and
// authorizes again for the challenged scope, with the user, and retries.
async function stepUp(client, tool) {
  try {
    return await call(client, tool);
  } catch (err) {
    if (!(err instanceof StreamableHTTPError) || err.code !== 403) throw err;
    emit({ event: "stepup-refused-by-sdk", message: err.message });
  }
  const scope = /scope="([^"]*)"/.exec(challenge)?.[1];
  if (!/error="insufficient_scope"/.test(challenge) || !scope) throw new Error(`no insufficient_scope challenge: ${challenge}`);
  const held = provider.saved;
  provider.saved = { ...held, refresh_token: undefined };
  const opts = { serverUrl: mcpURL, scope, fetchFn: recordingFetch };
  if ((await auth(provider, opts)) !== "REDIRECT") throw new Error("step-up did not ask the user");
  if ((await auth(provider, { ...opts, authorizationCode: provider.takeCode() })) !== "AUTHORIZED") {
    throw new Error("step-up code exchange failed");
  }
  await call(client, tool);
}

// untilExpired waits for the test to move the gateway's clock past the
// access token's lifetime.
async function untilExpired() {
  emit({ event: "awaiting-expiry" });
  const rl = createInterface({ input: process.stdin });
  for await (const _ of rl) break;
  rl.close();
}

async function main() {
  const client = await connect();
  await listTools(client);
  await call(client, "echo", { text: "hello from the TypeScript SDK" });
  await stepUp(client, opt["admin-tool"]);
  await listTools(client);
  await untilExpired();
  // The gateway now answers 401 invalid_token; the SDK refreshes and retries.
  await call(client, "echo", { text: "after the refresh" });
  await client.close();
  emit({ event: "done" });
}

main().then(
  () => process.exit(0),
  (err) => {
    emit({ event: "fatal", message: String(err?.stack ?? err) });
    process.exit(1);
  },
);
