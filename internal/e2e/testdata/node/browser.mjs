// Browser is the user's browser for client.mjs: it opens an authorization
// URL and walks the gateway's pages as a person would, with a cookie jar,
// following redirects one by one, reading each page's form (its action,
// hidden fields, the username and password inputs, the primary button) and
// submitting it with the page's Origin, until the gateway redirects to the
// client's redirect URI. Nothing listens there: the browser stops at the
// redirect and hands back its query (code, state, iss). It knows nothing
// of the gateway beyond HTML forms.

// The most pages a flow may take before the browser gives up.
const maxSteps = 10;

export class Browser {
  constructor(username, password) {
    this.username = username;
    this.password = password;
    this.jar = new Map(); // origin -> Map(cookie name -> value)
  }

  // authorize walks from url to the redirect to redirectURI and returns
  // that redirect's query parameters.
  async authorize(url, redirectURI) {
    const target = new URL(redirectURI);
    let res = await this.go(new URL(url));
    for (let i = 0; i < maxSteps; i++) {
      if (res.status >= 300 && res.status < 400) {
        const loc = new URL(res.headers.get("location"), res.url);
        if (loc.origin === target.origin && loc.pathname === target.pathname) return loc.searchParams;
        res = await this.go(loc);
        continue;
      }
      if (res.status !== 200) throw new Error(`browser: ${res.url} answered ${res.status}: ${await res.text()}`);
      res = await this.submit(new URL(res.url), await res.text());
    }
    throw new Error(`browser: no redirect to ${redirectURI} after ${maxSteps} pages`);
  }

  // go sends one request with the jar's cookies and keeps what it sets.
  async go(url, init = {}) {
    const jar = this.jar.get(url.origin) ?? new Map();
    const headers = new Headers(init.headers);
    if (jar.size) headers.set("cookie", [...jar].map(([k, v]) => `${k}=${v}`).join("; "));
    const res = await fetch(url, { ...init, headers, redirect: "manual" });
    for (const c of res.headers.getSetCookie()) {
      const [pair] = c.split(";");
      const eq = pair.indexOf("=");
      jar.set(pair.slice(0, eq).trim(), pair.slice(eq + 1).trim());
    }
    this.jar.set(url.origin, jar);
    Object.defineProperty(res, "url", { value: url.toString() });
    return res;
  }

  // submit fills in and posts the page's form.
  async submit(page, html) {
    const form = /<form\b([^>]*)>([\s\S]*?)<\/form>/i.exec(html);
    if (!form) throw new Error(`browser: no form on ${page}:\n${html}`);
    const action = new URL(attr(form[1], "action") ?? page.toString(), page);
    const fields = new URLSearchParams();
    for (const [tag] of form[2].matchAll(/<input\b[^>]*>/gi)) {
      const name = attr(tag, "name");
      if (!name) continue;
      const type = (attr(tag, "type") ?? "text").toLowerCase();
      if (type === "password") fields.set(name, this.password);
      else if (name === "username") fields.set(name, this.username);
      else fields.set(name, attr(tag, "value") ?? "");
    }
    // The person clicks the primary button (Sign in, Allow).
    const button = [...form[2].matchAll(/<button\b[^>]*>/gi)].map((m) => m[0]).find((b) => /class="[^"]*primary/.test(b));
    if (button && attr(button, "name")) fields.set(attr(button, "name"), attr(button, "value") ?? "");
    return this.go(action, {
      method: (attr(form[1], "method") ?? "get").toUpperCase(),
      headers: { "content-type": "application/x-www-form-urlencoded", origin: page.origin },
      body: fields.toString(),
    });
  }
}

// attr is the decoded value of an HTML attribute in a tag, or undefined.
function attr(tag, name) {
  const m = new RegExp(`\\b${name}="([^"]*)"`, "i").exec(tag);
  return m ? decode(m[1]) : undefined;
}

function decode(s) {
  return s
    .replace(/&#(\d+);/g, (_, n) => String.fromCodePoint(Number(n)))
    .replace(/&#x([0-9a-f]+);/gi, (_, n) => String.fromCodePoint(parseInt(n, 16)))
    .replace(/&quot;/g, '"')
    .replace(/&lt;/g, "<")
    .replace(/&gt;/g, ">")
    .replace(/&amp;/g, "&");
}
