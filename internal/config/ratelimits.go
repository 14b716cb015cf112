package config

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Redis is a shared Redis server. Today it holds the rate limits, so they
// hold across instances (SPEC RL-1); without it each instance counts on
// its own.
type Redis struct {
	// URL is redis://[user:password@]host[:port][/db], or rediss:// for
	// TLS. Default: none (in-memory rate limits). It may carry a password,
	// so it accepts ${NAME} and has a url_file twin, and problems never
	// quote it.
	URL     string `yaml:"url"`
	URLFile string `yaml:"url_file"`
	// KeyPrefix starts every key mcpgate writes, so deployments can share
	// a Redis. Default "mcpgate:".
	KeyPrefix string `yaml:"key_prefix"`
}

// Enabled reports whether a Redis is configured.
func (r Redis) Enabled() bool { return r.URL != "" || r.URLFile != "" }

// RateLimits are the request rate limits (SPEC RL-1). Each limit allows
// burst requests at once and then rate; a request over it gets 429 with
// Retry-After and RateLimit headers. Address limits count an IPv6 client
// by its /64 and see client addresses through trusted_proxies.
type RateLimits struct {
	// AuthorizeIP limits /oauth/authorize per client address. Default
	// rate 1/s, burst 100.
	AuthorizeIP RateLimit `yaml:"authorize_ip"`
	// LoginIP limits /oauth/login (page and form) per client address.
	// Default rate 1/s, burst 60.
	LoginIP RateLimit `yaml:"login_ip"`
	// CallbackIP limits /oauth/callback/{provider} per client address.
	// Default rate 1/s, burst 60.
	CallbackIP RateLimit `yaml:"callback_ip"`
	// TokenIP limits /oauth/token per client address. Default rate 10/s,
	// burst 100.
	TokenIP RateLimit `yaml:"token_ip"`
	// TokenClient limits /oauth/token per authenticated client (a public
	// client per client and address). Default rate 50/s, burst 500.
	TokenClient RateLimit `yaml:"token_client"`
	// RegisterIP limits /oauth/register per client address. Default rate
	// 1/6m, burst 10.
	RegisterIP RateLimit `yaml:"register_ip"`
	// MCPUser limits each user's requests to the MCP routes. Default rate
	// 20/s, burst 200.
	MCPUser RateLimit `yaml:"mcp_user"`
	// MCPUserTool limits each user's calls of each tool. Default rate
	// 10/s, burst 100.
	MCPUserTool RateLimit `yaml:"mcp_user_tool"`
	// MaxKeys bounds the keys the in-memory limiter holds (idle keys are
	// dropped first). Default 100000; 1000 to 10000000. Unused with Redis,
	// except while Redis is unreachable.
	MaxKeys int `yaml:"max_keys"`
}

// RateLimit is one limit. A field left out takes its default.
type RateLimit struct {
	// Rate is "<n>/<period>": n requests per period, a Go duration or a
	// bare unit ("10/s", "30/1m", "1/6m").
	Rate Rate `yaml:"rate"`
	// Burst is how many requests may come at once. 1 to 1000000.
	Burst int `yaml:"burst"`
}

// Rate is "<n>/<period>": n requests per period, the period a Go
// duration or a bare unit ("10/s", "30/1m", "1/6m"). Validate checks it
// (with the field's path in the problem); Every reads it.
type Rate string

// parse reads the rate: n >= 1 requests per a positive period.
func (r Rate) parse() (int, time.Duration, error) {
	n, per, ok := strings.Cut(string(r), "/")
	count, err := strconv.Atoi(n)
	if !ok || err != nil || count < 1 {
		return 0, 0, fmt.Errorf("invalid rate %q (want <n>/<period> with n >= 1, such as \"10/s\" or \"30/1m\")", string(r))
	}
	if per != "" && (per[0] < '0' || per[0] > '9') {
		per = "1" + per
	}
	d, err := time.ParseDuration(per)
	if err != nil || d <= 0 {
		return 0, 0, fmt.Errorf("invalid rate %q: the period must be a positive duration such as \"s\", \"1m\" or \"6m\"", string(r))
	}
	return count, d, nil
}

// Every is the interval between two requests at this rate, 0 when the
// rate does not parse (Validate refuses it).
func (r Rate) Every() time.Duration {
	n, per, err := r.parse()
	if err != nil {
		return 0
	}
	return per / time.Duration(n)
}

// Defaults of the rate limits (SPEC RL-1). A person signs in a few times a
// day and an MCP client registers once per server, so the address limits
// leave even a NAT full of users far below them, while a script gets its
// burst and then crawls. The token limits leave room for every user
// behind one address refreshing each access-token lifetime; the client
// limit is high because a public client (one CIMD URL) is shared by all
// its users. The MCP limits allow agents' bursts of tool calls and stop a
// runaway loop.
var (
	DefaultAuthorizeIPLimit = RateLimit{Rate: "1/s", Burst: 100}
	DefaultLoginIPLimit     = RateLimit{Rate: "1/s", Burst: 60}
	DefaultCallbackIPLimit  = RateLimit{Rate: "1/s", Burst: 60}
	DefaultTokenIPLimit     = RateLimit{Rate: "10/s", Burst: 100}
	DefaultTokenClientLimit = RateLimit{Rate: "50/s", Burst: 500}
	DefaultRegisterIPLimit  = RateLimit{Rate: "1/6m", Burst: 10}
	DefaultMCPUserLimit     = RateLimit{Rate: "20/s", Burst: 200}
	DefaultMCPUserToolLimit = RateLimit{Rate: "10/s", Burst: 100}
)

// Other rate-limit defaults and bounds.
const (
	DefaultRateLimitMaxKeys = 100_000
	DefaultRedisKeyPrefix   = "mcpgate:"
	maxBurst                = 1_000_000
	// maxWindow bounds burst × interval, the time an empty bucket takes
	// to fill and the life of its key in Redis.
	maxWindow = 7 * 24 * time.Hour
)

func (l *RateLimits) applyDefaults() {
	for _, f := range l.fields() {
		setDefault(&f.limit.Rate, f.def.Rate)
		setDefault(&f.limit.Burst, f.def.Burst)
	}
	setDefault(&l.MaxKeys, DefaultRateLimitMaxKeys)
}

type rateLimitField struct {
	key   string
	limit *RateLimit
	def   RateLimit
}

// fields lists every limit with its YAML key and default.
func (l *RateLimits) fields() []rateLimitField {
	return []rateLimitField{
		{"authorize_ip", &l.AuthorizeIP, DefaultAuthorizeIPLimit},
		{"login_ip", &l.LoginIP, DefaultLoginIPLimit},
		{"callback_ip", &l.CallbackIP, DefaultCallbackIPLimit},
		{"token_ip", &l.TokenIP, DefaultTokenIPLimit},
		{"token_client", &l.TokenClient, DefaultTokenClientLimit},
		{"register_ip", &l.RegisterIP, DefaultRegisterIPLimit},
		{"mcp_user", &l.MCPUser, DefaultMCPUserLimit},
		{"mcp_user_tool", &l.MCPUserTool, DefaultMCPUserToolLimit},
	}
}

// check: SPEC RL-1. The bounds keep every limit one the backends count
// exactly: Redis counts in microseconds, and a bucket taking longer than a
// week to fill is a mistake, not a rate limit.
func (l RateLimits) check(ps *Problems) {
	for _, f := range l.fields() {
		path := field("rate_limits", f.key)
		every := f.limit.Rate.Every()
		if _, _, err := f.limit.Rate.parse(); err != nil {
			ps.add(field(path, "rate"), err.Error())
		} else if every < time.Microsecond {
			ps.add(field(path, "rate"), "must be at most 1000000/s (one request per microsecond)")
		}
		switch b := f.limit.Burst; {
		case b < 1 || b > maxBurst:
			ps.add(field(path, "burst"), fmt.Sprintf("must be between 1 and %d", maxBurst))
		case every >= time.Microsecond && time.Duration(b) > maxWindow/every:
			ps.add(path, fmt.Sprintf("burst × the rate's interval (%s) must be at most %s: the time an empty bucket takes to fill",
				every, maxWindow))
		}
	}
	if l.MaxKeys < 1000 || l.MaxKeys > 10_000_000 {
		ps.add("rate_limits.max_keys", "must be between 1000 and 10000000")
	}
}

func (r *Redis) applyDefaults() {
	if r.Enabled() {
		setDefault(&r.KeyPrefix, DefaultRedisKeyPrefix)
	}
}

// check validates the URL's form. Messages never quote it: it may hold a
// password.
func (r Redis) check(ps *Problems) {
	if r.URL == "" {
		if r.KeyPrefix != "" && !r.Enabled() {
			ps.add("redis.key_prefix", "set without redis.url")
		}
		return
	}
	u, err := url.Parse(r.URL)
	switch {
	case err != nil:
		ps.add("redis.url", "is not a URL")
	case u.Scheme != "redis" && u.Scheme != "rediss":
		ps.add("redis.url", "must start with redis:// or rediss:// (TLS)")
	case u.Host == "":
		ps.add("redis.url", "has no host")
	default:
		if db := strings.TrimPrefix(u.Path, "/"); db != "" {
			if n, err := strconv.Atoi(db); err != nil || n < 0 {
				ps.add("redis.url", "the path must be a database number, such as /0")
			}
		}
	}
}
