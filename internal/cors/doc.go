// Package cors owns the gateway's cross-origin policy (SPEC HD-1): which
// endpoints a browser page on another origin may call, and what it may
// read of the answers. It never allows credentials.
package cors
