package demoupstream

import (
	"context"
	"errors"
	"fmt"
	"time"
	_ "time/tzdata" // current_time must know IANA zones on hosts and images without zoneinfo.

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

type echoIn struct {
	Text string `json:"text" jsonschema:"the text to send back"`
}

type echoOut struct {
	Text string `json:"text" jsonschema:"the text that was sent"`
}

type addIn struct {
	A float64 `json:"a" jsonschema:"the first addend"`
	B float64 `json:"b" jsonschema:"the second addend"`
}

type addOut struct {
	Sum float64 `json:"sum" jsonschema:"a + b"`
}

type timeIn struct {
	Timezone string `json:"timezone,omitempty" jsonschema:"an IANA time zone name such as Europe/Paris; default UTC"`
}

type timeOut struct {
	Time     string `json:"time" jsonschema:"the current time, RFC 3339"`
	Timezone string `json:"timezone" jsonschema:"the zone the time is given in"`
}

type whoamiOut struct {
	Headers map[string]string `json:"headers" jsonschema:"the identity headers the gateway sent, by name"`
	Note    string            `json:"note,omitempty" jsonschema:"why no header is shown, when none is"`
}

type resetOut struct {
	Previous int64 `json:"previous" jsonschema:"tool calls counted before the reset, this one included"`
}

func (d *demo) addTools(s *mcp.Server) {
	mcp.AddTool(s, &mcp.Tool{Name: "echo", Description: "Send the text back."}, echo)
	mcp.AddTool(s, &mcp.Tool{Name: "add", Description: "Add two numbers."}, add)
	mcp.AddTool(s, &mcp.Tool{Name: "current_time", Description: "The current time in a zone (default UTC)."}, d.currentTime)
	mcp.AddTool(s, &mcp.Tool{Name: "whoami", Description: "Show the identity headers the gateway sent."}, whoami)
	mcp.AddTool(s, &mcp.Tool{
		Name:        AdminTool,
		Description: "Reset the server-wide tool-call counter and return its old value (needs demo:admin).",
	}, d.resetCounter)
}

func echo(_ context.Context, _ *mcp.CallToolRequest, in echoIn) (*mcp.CallToolResult, echoOut, error) {
	res := &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: in.Text}}}
	return res, echoOut(in), nil
}

func add(_ context.Context, _ *mcp.CallToolRequest, in addIn) (*mcp.CallToolResult, addOut, error) {
	return nil, addOut{Sum: in.A + in.B}, nil
}

// currentTime answers a bad zone with an error, which the go-sdk turns into a
// tool result with IsError set (not a protocol error), so the model can correct itself.
func (d *demo) currentTime(_ context.Context, _ *mcp.CallToolRequest, in timeIn) (*mcp.CallToolResult, timeOut, error) {
	name := in.Timezone
	if name == "" {
		name = "UTC"
	}
	loc, err := loadZone(name)
	if err != nil {
		return nil, timeOut{}, err
	}
	return nil, timeOut{Time: d.now().In(loc).Format(time.RFC3339), Timezone: name}, nil
}

// loadZone loads an IANA zone. "Local" is refused: it is not an IANA name, and
// it would answer with the host's zone, which the demo has no reason to reveal.
func loadZone(name string) (*time.Location, error) {
	if name == "Local" {
		return nil, errors.New(`unknown time zone "Local": use an IANA name such as Europe/Paris`)
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil, fmt.Errorf("unknown time zone %q: use an IANA name such as Europe/Paris", name)
	}
	return loc, nil
}

// whoami reports the identity headers as received. The gateway deletes any copy a
// client sent before setting its own (SPEC PX-8), so these are the gateway's word.
func whoami(_ context.Context, req *mcp.CallToolRequest, _ struct{}) (*mcp.CallToolResult, whoamiOut, error) {
	out := whoamiOut{Headers: map[string]string{}}
	for _, name := range []string{SubjectHeader, EmailHeader, GroupsHeader} {
		if v := req.Extra.Header.Get(name); v != "" {
			out.Headers[name] = v
		}
	}
	if len(out.Headers) == 0 {
		out.Note = "the gateway sent no identity headers; set identity_headers on this upstream to send them"
	}
	return nil, out, nil
}

func (d *demo) resetCounter(_ context.Context, _ *mcp.CallToolRequest, _ struct{}) (*mcp.CallToolResult, resetOut, error) {
	return nil, resetOut{Previous: d.calls.Swap(0)}, nil
}
