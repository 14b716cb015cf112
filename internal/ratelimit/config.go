package ratelimit

import "github.com/mcpgate/mcpgate/internal/config"

// FromConfig names each configured limit after its config key, the name
// metrics, audit events and the RateLimit headers show.
func FromConfig(c config.RateLimits) Limits {
	l := func(name string, r config.RateLimit) Limit {
		return Limit{Name: name, Burst: r.Burst, Every: r.Rate.Every()}
	}
	return Limits{
		AuthorizeIP: l("authorize_ip", c.AuthorizeIP),
		LoginIP:     l("login_ip", c.LoginIP),
		CallbackIP:  l("callback_ip", c.CallbackIP),
		TokenIP:     l("token_ip", c.TokenIP),
		TokenClient: l("token_client", c.TokenClient),
		RegisterIP:  l("register_ip", c.RegisterIP),
		MCPUser:     l("mcp_user", c.MCPUser),
		MCPUserTool: l("mcp_user_tool", c.MCPUserTool),
	}
}
